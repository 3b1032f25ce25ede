//! Classification throughput: `cargo bench --bench classify`.
//!
//! Classifies 100,000 items — the labelled dev set (`tests/classify/dev.jsonl`,
//! the sample issue's articles and 71 more) repeated — on one thread, first
//! with the rules alone, then combined with a model trained on the dev set,
//! and prints items per second per core. Options: `--items N`.

use std::hint::black_box;
use std::time::Instant;

use kuaibao::classify::{ClassifyInput, Model, Rules, classify, model::document};

fn main() {
    let mut n = 100_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--items" {
            n = args.next().and_then(|v| v.parse().ok()).expect("--items N");
        }
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/classify/dev.jsonl"
    ))
    .expect("dev set");
    let mut items: Vec<ClassifyInput> = Vec::new();
    let mut examples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let item: ClassifyInput = serde_json::from_str(line).expect("dev item");
        examples.push((
            document(&item.title, &item.content),
            v["section"].as_str().map(str::to_string),
        ));
        items.push(item);
    }
    let chars: usize = items.iter().map(|i| i.content.chars().count()).sum();
    println!(
        "{} distinct items, {} characters of content on average",
        items.len(),
        chars / items.len()
    );
    let rules = Rules::default();
    let model = Model::train(&examples);
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
