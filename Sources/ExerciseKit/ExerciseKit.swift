// ExerciseKit — placeholder until this module's issue lands.
