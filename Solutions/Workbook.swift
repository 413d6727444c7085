// Workbook — placeholder until the exercise system lands.
