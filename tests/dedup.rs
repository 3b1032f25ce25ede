//! Near-duplicate story detection: the labelled pairs built from bulletin
//! 202509, the index in memory and in the store.

use std::path::Path;

use kuaibao::dedup::{self, DedupConfig, DedupIndex, Prepared, StoryText, evaluate, same_story};
use kuaibao::store::Store;

fn pairs() -> Vec<(StoryText, StoryText, bool)> {
    #[derive(serde::Deserialize)]
    struct Pair {
        a: StoryText,
        b: StoryText,
        same: bool,
    }
    let data = std::fs::read_to_string("tests/dedup/pairs.jsonl").expect("pairs.jsonl");
    data.lines()
        .map(|l| {
            let p: Pair = serde_json::from_str(l).expect("pair");
            (p.a, p.b, p.same)
        })
        .collect()
}

#[test]
fn labelled_pairs_are_all_judged_right() {
    let report = evaluate(
        Path::new("tests/dedup/pairs.jsonl"),
        &DedupConfig::default(),
    )
    .expect("evaluate");
    println!("{report}");
    assert!(report.pairs >= 60, "{} pairs", report.pairs);
    assert_eq!(report.precision(), 1.0, "{report}");
    assert_eq!(report.recall(), 1.0, "{report}");
}

#[test]
fn verdicts_explain_themselves() {
    let cfg = DedupConfig::default();
    for (a, b, same) in pairs() {
        let v = same_story(&a, &b, &cfg);
        assert!(!v.reason.is_empty());
        assert!((0.0..=1.0).contains(&v.score), "{v:?}");
        if same {
            assert!(v.reason.starts_with("same story"), "{}", v.reason);
        } else {
            assert!(v.reason.starts_with("different stories"), "{}", v.reason);
        }
    }
}

#[test]
fn evaluate_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, "{\"a\": {\"text\": \"x\"}}\n").unwrap();
    let err = evaluate(&path, &DedupConfig::default()).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn every_copy_is_a_candidate_in_the_memory_index() {
    let cfg = DedupConfig::default();
    let mut index = DedupIndex::new();
    let pairs = pairs();
    for (i, (a, _, _)) in pairs.iter().enumerate() {
        index.insert(i as i64, &Prepared::new(a, &cfg).fingerprint());
    }
    let mut found = 0;
    let mut copies = 0;
    for (i, (_, b, same)) in pairs.iter().enumerate() {
        let candidates = index.candidates(&Prepared::new(b, &cfg).fingerprint());
        if *same {
            copies += 1;
            if candidates.contains(&(i as i64)) {
                found += 1;
            }
        }
    }
    // LSH is probabilistic; the copies here have Jaccard ≥ 0.5, where a band
    // is shared with probability ≥ 0.87 — in practice nearly always.
    println!("{found} of {copies} copies found among candidates");
    assert!(found as f64 >= 0.9 * copies as f64, "{found} of {copies}");
}

#[test]
fn the_stores_index_finds_the_same_candidates_and_respects_the_window() {
    let cfg = DedupConfig::default();
    let mut store = Store::open_in_memory().unwrap();
    let mut index = DedupIndex::new();
    let pairs = pairs();
    for (i, (a, _, _)) in pairs.iter().enumerate() {
        let fp = dedup::fingerprint(&a.text, &cfg);
        let row = (i as i64, 20_000 + i as i64, fp.clone());
        store.save_fingerprints(std::slice::from_ref(&row)).unwrap();
        // Saving twice replaces, not duplicates.
        store.save_fingerprints(&[row]).unwrap();
        index.insert(i as i64, &fp);
    }
    for (_, b, _) in &pairs {
        let fp = dedup::fingerprint(&b.text, &cfg);
        assert_eq!(
            store.dedup_candidates(&fp, None).unwrap(),
            index.candidates(&fp)
        );
        let recent = store.dedup_candidates(&fp, Some(20_060)).unwrap();
        assert!(recent.iter().all(|&id| id >= 60), "{recent:?}");
    }
    let (day, fp) = store.fingerprint(3).unwrap().unwrap();
    assert_eq!(day, 20_003);
    assert_eq!(fp, dedup::fingerprint(&pairs[3].0.text, &cfg));
}
