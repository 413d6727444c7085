public enum Chapter01Autograd { public static func placeholder() {} }
