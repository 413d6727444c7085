enum StepBench { static func run(quick: Bool) { print("step: pending") } }
