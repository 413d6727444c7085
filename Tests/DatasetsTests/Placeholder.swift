import Testing

@Suite struct PlaceholderDatasetsTests { @Test func builds() { #expect(1 + 1 == 2) } }
