import Testing

@Suite struct PlaceholderTokenizersTests { @Test func builds() { #expect(1 + 1 == 2) } }
