import Testing

@Suite struct PlaceholderCheckpointsTests { @Test func builds() { #expect(1 + 1 == 2) } }
