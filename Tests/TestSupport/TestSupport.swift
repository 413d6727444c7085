// TestSupport — shared test helpers.
