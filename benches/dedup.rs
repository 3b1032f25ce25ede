//! Near-duplicate detection at scale: check-and-insert against a store of
//! synthetic stories, with the band index in SQLite, against a naive scan.
//!
//! ```text
//! cargo bench --bench dedup                      # 1,000,000 stored items
//! cargo bench --bench dedup -- --items 100000    # smaller
//!     [--queries 10000] [--naive 100] [--dir PATH] [--threads 2]
//! ```
//!
//! Stored items are ~800–1,500 characters of Chinese text drawn from the
//! 640 most frequent characters of a real bulletin, in paragraphs and
//! sentences; every 20th item is a near-duplicate of an earlier one (a
//! paragraph dropped, a dateline added, punctuation half-width). An item's
//! text is a function of its id, so verification regenerates a candidate's
//! text where the pipeline would read `items.content_text` (one primary-key
//! read, not measured here).
//!
//! The store creates the schema (`kuaibao::store::Store::open`); the load
//! then writes the store's `item_fingerprints` / `item_bands` tables
//! directly in one transaction, band rows sorted by key (an append into the
//! B-tree) — the one place outside `src/store` that writes them, because a
//! million items one store transaction at a time would take an hour. Each
//! of the `--queries` new items (10 % of them copies of stored items) is
//! then checked and inserted through the store's API as the pipeline
//! would: prepare (normalize, shingle, entities), fingerprint, band look-up
//! (`Store::dedup_candidates`), stored-fingerprint pre-filter (estimated
//! containment ≥ 0.5), full verification of what passes
//! (`kuaibao::dedup::find_matches`), save in its own transaction
//! (`Store::save_fingerprints`), the store's time-gated WAL checkpoint.
//! Reported: median and p99 of that, database bytes per item, and the same
//! check done by scanning every stored fingerprint for `--naive` of the
//! queries.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kuaibao::dedup::{
    DedupConfig, Fingerprint, ItemId, Prepared, StoredStories, StoryText, find_matches,
    fingerprint, verify,
};
use kuaibao::store::{Store, StoreError};
use rusqlite::{Connection, params};

const POOL: &str = "业的保医工人动就共行务政和实等一是力国障在资部年理化会能制体发同度提社劳门疗展识作为岗用关管策企方支平中源进法药服对新技以通与大高合形建基性施系机全了上开稳规定项家成协现信专于者改地民推出持目点加省要台三革治多时位式有分险面构效不过各付公主农更强促金续龄及标范经职市升确补需数入品态内到生单统重级监措个求来价应执日组例将联量任下相准局从府明调集立指导本次放试助扩打据还元场网月增失区益员可向议息办培采参智期织举利程责外层薪术权知设结安贴款费率招特表查并深则才水破产广批围模解宽好训意受充种享欠五整或领质优心贷前长投活厅商至四取得注自条之槛英非间格其案今聘底线代示购步值学报最收事科总视精落拓万布口别供纳银础二律临核维夏季村起转创引着除户认限道情紧常追歧这码南融河北印当密排评压境列营返额低减计移突聚造已况兰证正索随仅挂床录江践他石严近育团际容每院所型具善传依少超题康域帮配未做励件由裁控审达必此督诉处见如验泛而互担溯快黑龙宁延蒙古甘肃待称回适校研份存环势阶释扶坚兜群焦切清负足小微十站渠摸账筑类置缴书包问考手让州零消倡旨健拳径后筹我毕复段亿针牢养先尽税序析预判激申请交送直师被算检头惩戒击恶护约普余界象岁松显景极征患探逻辑众使雇第路山链疆根典完宣然杂惠降红青接城启划脱贫介召止矛盾财照始响顿备变挥且授输牌抓电东缺族按名含急决比承何属须察绕风美递卖车司警谈涉争咨询看够央义观念无背反积致携键赋编络病慈违售救边京言论士继教留允许撑细估熟记轮千攻绍早防托掌握影秩因素都储邮鼓扎纪子奖抢窗";

struct Args {
    items: u64,
    queries: u64,
    naive: u64,
    dir: Option<PathBuf>,
    threads: usize,
}

fn args() -> Args {
    let mut a = Args {
        items: 1_000_000,
        queries: 10_000,
        naive: 100,
        dir: None,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--items" => a.items = value().parse().expect("--items N"),
            "--queries" => a.queries = value().parse().expect("--queries N"),
            "--naive" => a.naive = value().parse().expect("--naive N"),
            "--dir" => a.dir = Some(PathBuf::from(value())),
            "--threads" => a.threads = value().parse().expect("--threads N"),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// SplitMix64: a cheap, seedable generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn pool() -> &'static [char] {
    static P: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    P.get_or_init(|| POOL.chars().collect())
}

/// The original text of story `seed`: paragraphs of sentences, characters
/// skewed towards the frequent ones.
fn original(seed: u64) -> Vec<String> {
    let pool = pool();
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
    let target = 800 + rng.below(700) as usize;
    let mut paras = Vec::new();
    let mut total = 0;
    while total < target {
        let mut p = String::new();
        for _ in 0..2 + rng.below(4) {
            let len = 8 + rng.below(30);
            for k in 0..len {
                let r = rng.next();
                // Product of two uniforms: frequent characters come first.
                let u = ((r & 0xffff_ffff) * (r >> 32)) >> 32;
                p.push(pool[((u * pool.len() as u64) >> 32) as usize]);
                if k > 0 && k % 11 == 0 && rng.below(3) == 0 {
                    p.push('，');
                }
            }
            p.push('。');
        }
        total += p.chars().count();
        paras.push(p);
    }
    paras
}

/// A republished copy of `base`: one paragraph dropped, a dateline, some
/// punctuation half-width.
fn copy_of(base: u64, seed: u64) -> String {
    let mut paras = original(base);
    let mut rng = Rng(seed);
    if paras.len() > 3 {
        let drop = 1 + rng.below(paras.len() as u64 - 1) as usize;
        paras.remove(drop);
    }
    paras[0] = format!(
        "新华社北京6月{}日电（记者 王某）{}",
        1 + rng.below(28),
        paras[0]
    );
    paras.join("\n").replace('，', ",")
}

/// Stored item `id`: every 20th (from 7) copies an earlier original.
fn stored_text(id: u64) -> String {
    if id % 20 == 7 {
        copy_of(base_of(id), id)
    } else {
        original(id).join("\n")
    }
}

fn base_of(id: u64) -> u64 {
    let mut b = id.saturating_sub(1 + Rng(id).below(id.min(50_000)));
    if b % 20 == 7 {
        b -= 1;
    }
    b
}

fn story(text: String) -> StoryText {
    StoryText {
        title: String::new(),
        text,
        origin: None,
    }
}

fn load(conn: &mut Connection, a: &Args, cfg: &DedupConfig) {
    conn.pragma_update(None, "journal_mode", "OFF").unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let started = Instant::now();
    let chunk = 50_000u64;
    let mut bands: Vec<(u8, i64, u32)> = Vec::with_capacity(a.items as usize * 42);
    let tx = conn.transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO item_fingerprints (item_id, day, shingles, minhash) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        let mut start = 0;
        while start < a.items {
            let end = (start + chunk).min(a.items);
            let per = (end - start).div_ceil(a.threads as u64);
            let fps: Vec<Vec<Fingerprint>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..a.threads as u64)
                    .map(|t| {
                        let (lo, hi) =
                            ((start + t * per).min(end), (start + (t + 1) * per).min(end));
                        s.spawn(move || {
                            (lo..hi)
                                .map(|id| fingerprint(&stored_text(id), cfg))
                                .collect()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for (id, fp) in (start..end).zip(fps.iter().flatten()) {
                ins.execute(params![
                    id as i64,
                    20_000 + (id / 5_000) as i64,
                    fp.shingles,
                    fp.to_blob()
                ])
                .unwrap();
                bands.extend(fp.bands().into_iter().map(|(b, k)| (b, k, id as u32)));
            }
            start = end;
            eprint!(
                "\r  fingerprinted {end} / {}  ({:.0?})",
                a.items,
                started.elapsed()
            );
        }
        eprintln!();
        bands.sort_unstable();
        let mut ins = tx
            .prepare("INSERT INTO item_bands (band, key, item_id) VALUES (?1, ?2, ?3)")
            .unwrap();
        for (b, k, id) in &bands {
            ins.execute(params![b, k, id]).unwrap();
        }
    }
    tx.commit().unwrap();
    drop(bands);
    println!(
        "loaded {} items ({} band rows) in {:.1?}",
        a.items,
        a.items * 42,
        started.elapsed()
    );
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
}

/// Query item `q`: every 10th copies a stored original.
fn query_text(q: u64, items: u64) -> (String, Option<u64>) {
    let mut rng = Rng(q ^ 0xabcdef);
    if q % 10 == 3 {
        let mut base = rng.below(items);
        if base % 20 == 7 {
            base -= 1;
        }
        (copy_of(base, q), Some(base))
    } else {
        (original(items + q).join("\n"), None)
    }
}

struct Outcome {
    verified: usize,
    found: Vec<u64>,
}

/// Checks one story against the given candidates: stored-fingerprint
/// pre-filter, then full verification.
fn check(
    store: &Store,
    new: &Prepared,
    fp: &Fingerprint,
    cands: &[i64],
    cfg: &DedupConfig,
) -> Outcome {
    let mut out = Outcome {
        verified: 0,
        found: Vec::new(),
    };
    for &id in cands {
        let Some((_, stored)) = store.fingerprint(id).unwrap() else {
            continue;
        };
        if fp.containment(&stored) < 0.5 {
            continue;
        }
        out.verified += 1;
        let other = Prepared::new(&story(stored_text(id as u64)), cfg);
        if verify(new, &other, cfg).same {
            out.found.push(id as u64);
        }
    }
    out
}

/// The store's index, with a candidate's text regenerated where the store
/// would read `items.content_text` (there are no items here).
struct Synthetic<'a>(&'a Store);

impl StoredStories for Synthetic<'_> {
    type Error = StoreError;

    fn candidates(
        &mut self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError> {
        self.0.dedup_candidates(fp, since_day)
    }

    fn fingerprint(&mut self, id: ItemId) -> Result<Option<Fingerprint>, StoreError> {
        Ok(self.0.fingerprint(id)?.map(|(_, fp)| fp))
    }

    fn story_text(&mut self, id: ItemId) -> Result<Option<StoryText>, StoreError> {
        Ok(Some(story(stored_text(id as u64))))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let a = args();
    let cfg = DedupConfig::default();
    let tmp = tempfile::tempdir_in(a.dir.clone().unwrap_or_else(std::env::temp_dir)).unwrap();
    let path = tmp.path().join("dedup.sqlite");
    // The schema is the store's.
    drop(Store::open(&path).unwrap());
    let mut conn = Connection::open(&path).unwrap();
    println!(
        "dedup bench: {} stored items, {} queries, {} naive, {} threads, {}",
        a.items,
        a.queries,
        a.naive,
        a.threads,
        path.display()
    );
    load(&mut conn, &a, &cfg);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "database: {:.1} MB, {:.0} bytes per item (fingerprint blob {} B + 42 band rows)",
        size as f64 / 1e6,
        size as f64 / a.items as f64,
        Fingerprint::BLOB_LEN
    );
    let mut store = Store::open(&path).unwrap();

    // The store keeps SQLite's automatic checkpoints off and checkpoints
    // itself, time-gated, after an item's commit (`Store::checkpoint`).
    let n = a.queries;
    let mut times = Vec::with_capacity(n as usize);
    let (mut copies, mut found_copies, mut false_found) = (0, 0, 0);
    for q in 0..n {
        let (text, base) = query_text(q, a.items);
        let id = (a.items + q) as i64;
        let t = Instant::now();
        let new = Prepared::new(&story(text), &cfg);
        let fp = new.fingerprint();
        let found: Vec<u64> = find_matches(&mut Synthetic(&store), &new, &fp, None, &cfg)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id as u64)
            .collect();
        store.save_fingerprints(&[(id, 20_300, fp)]).unwrap();
        store.checkpoint().unwrap();
        times.push(t.elapsed());
        if let Some(b) = base {
            copies += 1;
            if found.contains(&b) {
                found_copies += 1;
            }
        } else if !found.is_empty() {
            false_found += 1;
        }
    }
    times.sort();
    let median = percentile(&times, 0.5);
    println!(
        "check-and-insert, {n} items: median {:.3?}, p99 {:.3?}, max {:.3?}",
        median,
        percentile(&times, 0.99),
        times.last().unwrap(),
    );
    println!(
        "  copies found: {found_copies} of {copies}; fresh items matched to something: {false_found}"
    );

    // Naive: estimated containment against every stored fingerprint.
    let mut naive = Vec::new();
    let mut agree = 0;
    for q in 0..a.naive {
        let (text, _) = query_text(q, a.items);
        let t = Instant::now();
        let new = Prepared::new(&story(text), &cfg);
        let fp = new.fingerprint();
        let mut stmt = conn
            .prepare_cached("SELECT item_id, shingles, minhash FROM item_fingerprints")
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut hits = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            let blob = r.get_ref(2).unwrap().as_blob().unwrap();
            let stored = Fingerprint::from_blob(r.get(1).unwrap(), blob).unwrap();
            if fp.containment(&stored) >= 0.5 {
                hits.push(r.get::<_, i64>(0).unwrap());
            }
        }
        drop(rows);
        let out = check(&store, &new, &fp, &hits, &cfg);
        naive.push(t.elapsed());
        let indexed = check(
            &store,
            &new,
            &fp,
            &store.dedup_candidates(&fp, None).unwrap(),
            &cfg,
        );
        let mut x = out.found.clone();
        let mut y = indexed.found.clone();
        x.retain(|&i| i < a.items);
        y.retain(|&i| i < a.items);
        if x == y {
            agree += 1;
        }
    }
    if !naive.is_empty() {
        naive.sort();
        let nm = percentile(&naive, 0.5);
        println!(
            "naive scan, {} queries: median {:.1?}, p99 {:.1?}; index is {:.0}× faster (median); same matches in {agree} of {}",
            a.naive,
            nm,
            percentile(&naive, 0.99),
            nm.as_secs_f64() / median.as_secs_f64(),
            a.naive
        );
    }
}
