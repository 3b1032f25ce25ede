//! Classification throughput: `cargo bench --bench classify`.
//!
//! Classifies 100,000 items — the labelled dev and tuning sets
//! (`tests/classify/dev.jsonl`, `tuning.jsonl`: 386 items) repeated — on
//! one thread, first with the rules alone, then with the editors' model
//! trained on both sets, and prints items per second per core. Options:
//! `--items N`.

use std::hint::black_box;
use std::time::Instant;

use kuaibao::classify::{ClassifyInput, Rules, classify, load_set, train_on};

fn main() {
    let mut n = 100_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--items" {
            n = args.next().and_then(|v| v.parse().ok()).expect("--items N");
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/classify/");
    let mut set = load_set(std::path::Path::new(&format!("{dir}dev.jsonl"))).expect("dev set");
    set.extend(load_set(std::path::Path::new(&format!("{dir}tuning.jsonl"))).expect("tuning set"));
    let items: Vec<ClassifyInput> = set.iter().map(|i| i.input.clone()).collect();
    let chars: usize = items.iter().map(|i| i.content.chars().count()).sum();
    println!(
        "{} distinct items, {} characters of content on average",
        items.len(),
        chars / items.len()
    );
    let rules = Rules::default();
    let model = train_on(&set, &rules);
    // Warm the built-in gazetteer.
    black_box(classify(&items[0], &rules, None));
    for (label, model) in [("rules only", None), ("rules + model", Some(&model))] {
        let started = Instant::now();
        let mut relevant = 0usize;
        for i in 0..n {
            let c = classify(black_box(&items[i % items.len()]), &rules, model);
            relevant += usize::from(c.relevant);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{label:>14}: {n} items in {secs:.2} s = {:.0} items/s per core ({relevant} relevant)",
            n as f64 / secs
        );
    }
}
