// CSpinWait.c — empty: the module is its header (SwiftPM needs one source file per C target).
#include "CSpinWait.h"
