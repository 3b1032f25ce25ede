//! Business news, part of the classify stage: a company's hiring drive,
//! year-end bonus, insurance product or results has every word of the
//! field (招聘, 年薪, 岗位, 参保) and no public body or policy for its
//! subject. Editors leave it out; the rules weigh it down and, with
//! `[business] cap`, never make it a candidate on their own — it waits in
//! 待定 for an editor.

use super::rules::{Business, Weights};

/// What the business signal found in an item.
pub(super) struct BusinessEvidence {
    /// Added to the relevance score.
    pub add: f64,
    /// The item is business news: at most 待定 when the rules cap it.
    pub capped: bool,
}

/// Counts company words (title hits weighed like keywords') and public
/// bodies; explains what it found when the item reads as business news.
pub(super) fn weigh(
    b: &Business,
    w: &Weights,
    title: &str,
    body: &str,
    reasons: &mut Vec<String>,
) -> BusinessEvidence {
    let none = BusinessEvidence {
        add: 0.0,
        capped: false,
    };
    if b.words.is_empty() {
        return none;
    }
    let (mut company, mut public) = (0.0, 0u32);
    let mut shown: Vec<&str> = Vec::new();
    for (text, weight) in [(title, w.title), (body, 1.0)] {
        for m in b.matcher.find_iter(text) {
            let i = m.pattern().as_usize();
            if i < b.words.len() {
                company += weight;
                if shown.len() < 4 && !shown.contains(&b.words[i].as_str()) {
                    shown.push(&b.words[i]);
                }
            } else {
                public += 1;
            }
        }
    }
    if company < b.min_hits || public > b.public_max {
        return none;
    }
    let add = b.weight * f64::ln_1p(company);
    reasons.push(format!(
        "business news ({}; {company} company hits, {public} public bodies): relevance{add:+.2}{}",
        shown.join(", "),
        if b.cap { ", at most 待定" } else { "" }
    ));
    BusinessEvidence { add, capped: b.cap }
}
