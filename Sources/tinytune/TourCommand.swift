// TourCommand.swift — `tinytune` with no command: the guided tour.
//
// The main job: pretrain (or reuse) the base model, fine-tune it fully, with LoRA and with QLoRA on one
// task, train a second task model and merge the two, then print one comparison table and write an HTML
// report (SVG loss curves, memory bars). `--chapters` runs the opening chapters 1–4 instead.
import Foundation
import CommandLineOptions
import Training
import Tour
import Experiments
import Chapter01Autograd
import Chapter02Tensors
import Chapter03Pretraining
import Chapter04Memory

enum TourCommand {
    static let command = Command(
        name: "tour", summary: "the guided tour (the default): full FT vs LoRA vs QLoRA vs merge, one table + HTML report",
        help: """
        Usage: tinytune [tour] [--quick] [--out DIR] [--replay SHARE [--replay-characters N]]
                             [--steps N] [--adapter-lr R] [--generalist-steps N] [--chapters]

        Pretrains the base model (cached in $TINYTUNE_CACHE or ./.tinytune-cache; ~3 minutes the first
        time), fine-tunes it on "reverse a word" three ways — full, LoRA r=8, QLoRA r=8 on an NF4 base with
        8-bit AdamW — fine-tunes a second model on "record" and merges the two (SLERP), then repeats the
        merge with two fine-tunes of a shared generalist (a brief multi-task fine-tune on both tasks).
        Prints the table (trainable parameters, peak memory by role, step time, accuracy on both tasks,
        corpus loss) and writes report.html with the loss curves and memory bars. Every fine-tune mixes 25%
        of pretraining text into its examples (replay), so none wrecks the base. About 8 minutes on one
        core of an AMD Zen 5 with a cached base. When models/ holds SmolLM2-135M-Instruct (sh
        scripts/fetch-smollm2.sh), a last segment trains LoRA on it for the contact-card task and shows
        an answer before and after (a few minutes more).

          --quick      tiny configurations (seconds; nothing is cached)
          --out DIR    where report.html goes (default: runs/tour)
          --replay S   the share S (0…0.9) of pretraining-text windows mixed into every fine-tune (default
                       0.25; 0 trains on the task alone, unbucketed); --replay-characters N sets the
                       window length (default 128); with a mix, batches are bucketed by length
          --steps N    steps of every fine-tune of A and B (full, LoRA, QLoRA; default 600), the warmup
                       rescaled to the same share
          --adapter-lr R   the learning rate of LoRA and QLoRA (default 1.5e-3)
          --generalist-steps N   steps of the multi-task fine-tune behind the second merge (default 1000)
          --chapters   instead, run the opening chapters: autodiff, tensors, pretraining, memory
        """,
        run: { arguments in
            let options = try Options(arguments, valued: ["out", "replay", "replay-characters", "steps", "adapter-lr", "generalist-steps"],
                                      switches: ["quick", "chapters"])
            let quick = options.flag("quick")
            var config: Tour.Config = quick ? .tiny : .standard
            if options.string("replay") != nil {
                let share = try options.float("replay", default: 0, in: 0...0.9)
                let characters = try options.int("replay-characters", default: 128, in: 1...config.base.model.contextLength)
                config = config.replaying(share > 0 ? ReplayMix(share: Double(share), characters: characters) : nil)
            } else if options.string("replay-characters") != nil {
                throw UsageError(description: "--replay-characters N needs --replay SHARE")
            }
            if options.string("steps") != nil {
                let steps = try options.int("steps", default: config.fullRecipe.steps)
                config.fullRecipe = config.fullRecipe.withSteps(steps)
                config.adapterRecipe = config.adapterRecipe.withSteps(steps)
            }
            if options.string("adapter-lr") != nil {
                config.adapterRecipe.learningRate = try options.float("adapter-lr", default: 0, in: Float.leastNormalMagnitude...1)
            }
            if options.string("generalist-steps") != nil {
                config.generalistRecipe = config.generalistRecipe.withSteps(try options.int("generalist-steps", default: 1))
            }
            if options.flag("chapters") {
                let rule = String(repeating: "─", count: 72)
                Chapter01Autograd.run(quick ? .tiny : .standard)
                print(rule)
                Chapter02Tensors.run(quick ? .tiny : .standard)
                print(rule)
                try Chapter03Pretraining.run(quick ? .tiny : .standard)
                print(rule)
                Chapter04Memory.run(quick ? .tiny : .standard)
                return
            }
            let report = try Tour.run(config, progress: { label in
                ProgressReporter(label: label, every: quick ? 4 : 50)
            })
            let url = URL(fileURLWithPath: options.string("out") ?? "runs/tour").appendingPathComponent("report.html")
            try report.writeHTML(to: url)
            print("\nwrote \(url.path) (table, SVG loss curves, memory by role)")
            // The real model, when it is in models/ (else one line on how to fetch it).
            let real: Tour.RealModelConfig = quick ? .quick : .standard
            try Tour.realModelSegment(real, progress: ProgressReporter(label: "  LoRA on SmolLM2", every: max(real.recipe.steps / 4, 1)))
        })
}
