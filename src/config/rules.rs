//! The classification rules (in `config/sections.toml`): keyword weights for
//! relevance and for each section, signal weights and outlet priors. Part of
//! the configuration (layer 2) because they are read with it, and errors
//! name the file, the line and the key, as the configuration's do; the
//! classify stage scores items with them.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use toml::Spanned;

use super::ConfigError as ClassifyError;

/// The bulletin's sections, in print order.
pub const SECTIONS: [&str; 4] = ["focus", "regional", "opinion", "abroad"];

/// The rules shipped with the crate.
/// The shipped rules: the tables after the `[[section]]` list of
/// `config/sections.toml`.
pub const DEFAULT_RULES_TOML: &str = crate::config::DEFAULT_SECTIONS_TOML;

/// Weights of the signals that are not keywords.
#[derive(Debug, Clone)]
pub struct Weights {
    pub title: f64,
    pub title_region: f64,
    pub body_region: f64,
    pub source_region: f64,
    pub title_foreign: f64,
    pub body_foreign: f64,
    pub source_section: f64,
    /// The L2 penalty of the editors' model: its corrections are held back
    /// as if this many decisions agreed with the rules.
    pub model_half: f64,
}

#[derive(Debug, Clone)]
pub struct RelevanceParams {
    /// Relevant (a candidate) when relevance ≥ threshold.
    pub threshold: f64,
    /// 待定 (maybe) when `maybe ≤ relevance < threshold`: shown to editors in
    /// their own group, never published unreviewed; irrelevant below.
    pub maybe: f64,
    /// In `review.mode = "auto"`, a candidate is published without an
    /// editor only at this relevance or more (≥ threshold); a candidate
    /// under it waits for an editor as in manual mode.
    pub publish: f64,
    pub bias: f64,
    pub body: f64,
    pub density: f64,
    /// An off-topic marker weighing this much or less (≤ 0) in the title
    /// names what the item is about — a match, a share price, an office's
    /// own party meeting — and keeps it at most 待定 on the rules alone.
    /// `0` turns the cap off.
    pub title_marker: f64,
}

/// Evidence that an item argues rather than reports (`[commentary]`):
/// each weight is added to `opinion` when its signal is found.
#[derive(Debug, Clone)]
pub struct Commentary {
    /// The address is a commentary column.
    pub address: f64,
    /// Substrings of an address that mark a commentary column.
    pub addresses: Vec<String>,
    /// A byline (`□ 李锋`, `文/王某`, `作者：…`, `本报评论员`).
    pub byline: f64,
    /// A newswire dateline (`新华社北京10月21日电`, `本报讯`): news, so
    /// usually negative.
    pub dateline: f64,
    /// Weight of ln(1 + argument markers per 1,000 characters of text).
    pub argument: f64,
    pub arguments: Vec<String>,
    /// Weight of each argument marker in the title (at most two count).
    pub title_argument: f64,
    pub title_arguments: Vec<String>,
    /// Weight of ln(1 + reporting markers): news, so usually negative.
    pub reporting: f64,
    /// A question-and-answer text (`问：…答：`, `国家医保局答复：`): a
    /// policy explainer, however questioning its title; usually negative.
    pub explainer: f64,
    /// A title of two clauses parted by a comma, with no figure in it
    /// (`弹性退休，关键在“自愿”二字`): the form of an argument's title.
    pub title_clauses: f64,
    /// A title parted by a space (`人社部部署 确保…`): the form of a news
    /// headline, so usually negative.
    pub title_spaced: f64,
    pub reporting_words: Vec<String>,
    /// One automaton over `arguments` then `reporting_words`.
    pub(crate) body_matcher: AhoCorasick,
    pub(crate) title_matcher: AhoCorasick,
}

/// Business news (`[business]`): a company's hiring, pay, products or
/// results, told with no public body or policy in sight. It has every word
/// of the field (招聘, 年薪, 参保) and a company for its subject, so the
/// rules alone never make it a candidate.
#[derive(Debug, Clone)]
pub struct Business {
    /// Added to the relevance score × ln(1 + company hits).
    pub weight: f64,
    /// Company hits (a title hit counts `weights.title` times) that make
    /// an item business news…
    pub min_hits: f64,
    /// …when it names at most this many public bodies or policies.
    pub public_max: u32,
    /// Business news is at most 待定 on the rules alone.
    pub cap: bool,
    pub words: Vec<String>,
    pub public: Vec<String>,
    /// One automaton over `words` then `public`.
    pub(crate) matcher: AhoCorasick,
}

fn matcher(path: &Path, key: &str, words: &[String]) -> Result<AhoCorasick, ClassifyError> {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(words)
        .map_err(|e| ClassifyError::Invalid {
            path: path.to_path_buf(),
            line: 1,
            key: key.into(),
            message: e.to_string(),
        })
}

/// A list of words under `key`, none of them blank.
fn word_list(
    file: &File<'_>,
    list: Option<&Spanned<Vec<String>>>,
    key: &str,
) -> Result<Vec<String>, ClassifyError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if list.get_ref().iter().any(|w| w.trim().is_empty()) {
        return Err(file.invalid(list.span(), key, "empty entry"));
    }
    Ok(list.get_ref().clone())
}

/// The shipped rules' signal tables: what a rules file leaves out.
#[derive(Deserialize, Default)]
struct Shipped {
    commentary: RawCommentary,
    business: RawBusiness,
}

static SHIPPED: std::sync::LazyLock<Shipped> = std::sync::LazyLock::new(|| {
    #[derive(Deserialize)]
    struct Tables {
        commentary: RawCommentary,
        business: RawBusiness,
    }
    toml::from_str::<Tables>(DEFAULT_RULES_TOML)
        .map(|t| Shipped {
            commentary: t.commentary,
            business: t.business,
        })
        .unwrap_or_default()
});

/// `[commentary]`, with the shipped values for what it leaves out.
fn commentary(file: &File<'_>, own: &RawCommentary) -> Result<Commentary, ClassifyError> {
    let big = 1e3;
    let shipped = &SHIPPED.commentary;
    let or = |a: &Option<Spanned<f64>>, b: &Option<Spanned<f64>>| a.clone().or_else(|| b.clone());
    let raw = RawCommentary {
        address: or(&own.address, &shipped.address),
        addresses: own.addresses.clone().or_else(|| shipped.addresses.clone()),
        byline: or(&own.byline, &shipped.byline),
        dateline: or(&own.dateline, &shipped.dateline),
        argument: or(&own.argument, &shipped.argument),
        arguments: own.arguments.clone().or_else(|| shipped.arguments.clone()),
        title_argument: or(&own.title_argument, &shipped.title_argument),
        title_arguments: own
            .title_arguments
            .clone()
            .or_else(|| shipped.title_arguments.clone()),
        reporting: or(&own.reporting, &shipped.reporting),
        explainer: or(&own.explainer, &shipped.explainer),
        title_clauses: or(&own.title_clauses, &shipped.title_clauses),
        title_spaced: or(&own.title_spaced, &shipped.title_spaced),
        reporting_words: own
            .reporting_words
            .clone()
            .or_else(|| shipped.reporting_words.clone()),
    };
    let raw = &raw;
    let list = |v: &Option<Vec<String>>, default: &[&str]| -> Vec<String> {
        v.clone()
            .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
            .into_iter()
            .filter(|w| !w.trim().is_empty())
            .collect()
    };
    let arguments = list(&raw.arguments, &[]);
    let reporting_words = list(&raw.reporting_words, &[]);
    let title_arguments = list(&raw.title_arguments, &[]);
    let both: Vec<String> = arguments.iter().chain(&reporting_words).cloned().collect();
    Ok(Commentary {
        address: file.number(raw.address.as_ref(), "commentary.address", 0.0, -big, big)?,
        addresses: list(&raw.addresses, &[]),
        byline: file.number(raw.byline.as_ref(), "commentary.byline", 0.0, -big, big)?,
        dateline: file.number(raw.dateline.as_ref(), "commentary.dateline", 0.0, -big, big)?,
        argument: file.number(raw.argument.as_ref(), "commentary.argument", 0.0, -big, big)?,
        title_argument: file.number(
            raw.title_argument.as_ref(),
            "commentary.title_argument",
            0.0,
            -big,
            big,
        )?,
        reporting: file.number(
            raw.reporting.as_ref(),
            "commentary.reporting",
            0.0,
            -big,
            big,
        )?,
        explainer: file.number(
            raw.explainer.as_ref(),
            "commentary.explainer",
            0.0,
            -big,
            big,
        )?,
        title_clauses: file.number(
            raw.title_clauses.as_ref(),
            "commentary.title_clauses",
            0.0,
            -big,
            big,
        )?,
        title_spaced: file.number(
            raw.title_spaced.as_ref(),
            "commentary.title_spaced",
            0.0,
            -big,
            big,
        )?,
        body_matcher: matcher(file.path, "commentary.arguments", &both)?,
        title_matcher: matcher(file.path, "commentary.title_arguments", &title_arguments)?,
        arguments,
        title_arguments,
        reporting_words,
    })
}

/// `[business]`, with the shipped values for what it leaves out.
fn business(file: &File<'_>, own: &RawBusiness) -> Result<Business, ClassifyError> {
    let shipped = &SHIPPED.business;
    let or = |a: &Option<Spanned<f64>>, b: &Option<Spanned<f64>>| a.clone().or_else(|| b.clone());
    let list = |own: &Option<Vec<String>>, shipped: &Option<Vec<String>>| -> Vec<String> {
        own.as_ref()
            .or(shipped.as_ref())
            .into_iter()
            .flatten()
            .filter(|w| !w.trim().is_empty())
            .cloned()
            .collect()
    };
    let words = list(&own.words, &shipped.words);
    let public = list(&own.public, &shipped.public);
    let both: Vec<String> = words.iter().chain(&public).cloned().collect();
    Ok(Business {
        weight: file.number(
            or(&own.weight, &shipped.weight).as_ref(),
            "business.weight",
            0.0,
            -1e3,
            1e3,
        )?,
        min_hits: file.number(
            or(&own.min_hits, &shipped.min_hits).as_ref(),
            "business.min_hits",
            3.0,
            0.0,
            1e6,
        )?,
        public_max: file.number(
            or(&own.public_max, &shipped.public_max).as_ref(),
            "business.public_max",
            1.0,
            0.0,
            1e6,
        )? as u32,
        cap: own.cap.or(shipped.cap).unwrap_or(false),
        matcher: matcher(file.path, "business.words", &both)?,
        words,
        public,
    })
}

/// The default lower bound of the 待定 band.
const DEFAULT_MAYBE: f64 = 0.02;

/// An outlet or channel prior.
#[derive(Debug, Clone)]
pub struct Outlet {
    pub pattern: String,
    pub relevance: f64,
    /// Index into [`SECTIONS`].
    pub section: Option<usize>,
    pub weight: f64,
}

/// One keyword with its weights.
#[derive(Debug, Clone, Default)]
pub struct Keyword {
    pub text: String,
    pub relevance: f64,
    /// Per section, in [`SECTIONS`] order.
    pub sections: [f64; 4],
}

/// Validated rules with their keyword automaton.
#[derive(Debug, Clone)]
pub struct Rules {
    pub path: PathBuf,
    pub weights: Weights,
    pub relevance: RelevanceParams,
    /// Per section, in [`SECTIONS`] order.
    pub base: [f64; 4],
    pub keywords: Vec<Keyword>,
    pub outlets: Vec<Outlet>,
    pub commentary: Commentary,
    pub business: Business,
    pub(crate) matcher: AhoCorasick,
    /// `relevance.off_topic_titles`: words that in a title keep an item at
    /// most 待定, matched in the title only.
    pub off_topic_titles: Vec<String>,
    pub(crate) title_matcher: AhoCorasick,
    /// `relevance.official_outlets`: fragments of the names of the outlets
    /// whose candidates may be published unreviewed (新华社, 人民日报, 人社);
    /// with `official_endings`, empty turns the check off.
    pub official_outlets: Vec<String>,
    /// `relevance.official_endings`: how the name of a public body ends
    /// (部, 厅, 局), for the bodies the fragments do not name.
    pub official_endings: Vec<String>,
    /// `relevance.portrait_subjects`: people a feature story is about
    /// (退休教师, 店主, 她); with none of `public_matters` in the title, the
    /// item is at most 待定. Empty turns the check off.
    pub portrait_subjects: Vec<String>,
    pub(crate) portrait_matcher: AhoCorasick,
    /// `relevance.public_matters`: words that make a title about a person
    /// news of the field after all (政策, 补贴, 养老金, 人社).
    pub public_matters: Vec<String>,
    pub(crate) public_matcher: AhoCorasick,
    /// `relevance.offices`: the field's own offices (人社部, 人社厅, 医保局,
    /// 厅机关). A title that names one and, besides it, neither a keyword
    /// of the field nor one of `office_acts` is the office's notice about
    /// itself (its fire drill, its security week): at most 待定. Empty
    /// turns the check off.
    pub offices: Vec<String>,
    pub(crate) office_matcher: AhoCorasick,
    /// `relevance.office_acts`: what makes an office's title the field's
    /// news though no keyword is in it (《, 印发, 条例, 发布会, 部署).
    pub office_acts: Vec<String>,
    pub(crate) act_matcher: AhoCorasick,
    /// A hash of the rules' text: the editors' model corrects these rules
    /// and is retrained when they change.
    pub fingerprint: u64,
}

impl Default for Rules {
    /// The rules of the shipped `config/sections.toml`.
    fn default() -> Rules {
        Rules::from_toml(Path::new("config/sections.toml"), DEFAULT_RULES_TOML)
            .expect("the shipped rules are valid")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    /// The sections file's own list; the configuration reads it.
    #[serde(default, rename = "section")]
    _section: Option<toml::Value>,
    #[serde(default)]
    weights: RawWeights,
    relevance: RawRelevance,
    #[serde(default)]
    sections: BTreeMap<String, Spanned<RawSection>>,
    #[serde(default)]
    outlet: Vec<Spanned<RawOutlet>>,
    #[serde(default)]
    commentary: RawCommentary,
    #[serde(default)]
    business: RawBusiness,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBusiness {
    weight: Option<Spanned<f64>>,
    min_hits: Option<Spanned<f64>>,
    public_max: Option<Spanned<f64>>,
    cap: Option<bool>,
    words: Option<Vec<String>>,
    public: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCommentary {
    address: Option<Spanned<f64>>,
    addresses: Option<Vec<String>>,
    byline: Option<Spanned<f64>>,
    dateline: Option<Spanned<f64>>,
    argument: Option<Spanned<f64>>,
    arguments: Option<Vec<String>>,
    title_argument: Option<Spanned<f64>>,
    title_arguments: Option<Vec<String>>,
    reporting: Option<Spanned<f64>>,
    reporting_words: Option<Vec<String>>,
    explainer: Option<Spanned<f64>>,
    title_clauses: Option<Spanned<f64>>,
    title_spaced: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    title: Option<Spanned<f64>>,
    title_region: Option<Spanned<f64>>,
    body_region: Option<Spanned<f64>>,
    source_region: Option<Spanned<f64>>,
    title_foreign: Option<Spanned<f64>>,
    body_foreign: Option<Spanned<f64>>,
    source_section: Option<Spanned<f64>>,
    model_half: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelevance {
    threshold: Option<Spanned<f64>>,
    maybe: Option<Spanned<f64>>,
    publish: Option<Spanned<f64>>,
    bias: Option<Spanned<f64>>,
    body: Option<Spanned<f64>>,
    density: Option<Spanned<f64>>,
    title_marker: Option<Spanned<f64>>,
    off_topic_titles: Option<Spanned<Vec<String>>>,
    official_outlets: Option<Spanned<Vec<String>>>,
    official_endings: Option<Spanned<Vec<String>>>,
    portrait_subjects: Option<Spanned<Vec<String>>>,
    public_matters: Option<Spanned<Vec<String>>>,
    offices: Option<Spanned<Vec<String>>>,
    office_acts: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    keywords: BTreeMap<String, Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    base: Option<Spanned<f64>>,
    #[serde(default)]
    keywords: BTreeMap<String, Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutlet {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    relevance: Option<Spanned<f64>>,
    section: Option<Spanned<String>>,
    weight: Option<Spanned<f64>>,
}

struct File<'a> {
    path: &'a Path,
    text: &'a str,
}

impl File<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        crate::config::line_col(self.text, span.start).0
    }

    fn invalid(&self, span: Range<usize>, key: &str, message: &str) -> ClassifyError {
        ClassifyError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line(span),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    fn number(
        &self,
        value: Option<&Spanned<f64>>,
        key: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<f64, ClassifyError> {
        match value {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && (min..=max).contains(v.get_ref()) => {
                Ok(*v.get_ref())
            }
            Some(v) => Err(self.invalid(
                v.span(),
                key,
                &format!("expected a number from {min} to {max}"),
            )),
        }
    }

    fn section(&self, id: &Spanned<String>, key: &str) -> Result<usize, ClassifyError> {
        SECTIONS
            .iter()
            .position(|s| s == id.get_ref())
            .ok_or_else(|| {
                self.invalid(
                    id.span(),
                    key,
                    &format!(
                        "unknown section `{}`; expected one of {}",
                        id.get_ref(),
                        SECTIONS.join(", ")
                    ),
                )
            })
    }
}

/// The index of `text` in `keywords` (added if new) and its validated weight.
fn keyword(
    file: &File,
    keywords: &mut Vec<Keyword>,
    text: &str,
    value: &Spanned<f64>,
    key: &str,
) -> Result<(usize, f64), ClassifyError> {
    let big = 1e3;
    let weight = file.number(Some(value), key, 0.0, -big, big)?;
    if text.trim().is_empty() {
        return Err(file.invalid(value.span(), key, "empty keyword"));
    }
    let i = match keywords.iter().position(|k| k.text == text) {
        Some(i) => i,
        None => {
            keywords.push(Keyword {
                text: text.to_string(),
                ..Keyword::default()
            });
            keywords.len() - 1
        }
    };
    Ok((i, weight))
}

/// The keywords match leftmost-longest, so a section keyword that contains
/// a relevance keyword (`世界技能大赛` ⊃ `技能`) would hide it: the
/// keywords from `first_without` on (those with no relevance weight of
/// their own) take the relevance of the longest relevance keyword inside
/// them, which is what the text would have matched without them.
fn inherit_relevance(keywords: &mut [Keyword], first_without: usize) {
    let (weighted, rest) = keywords.split_at_mut(first_without);
    for k in rest {
        if let Some(inner) = weighted
            .iter()
            .filter(|w| w.text.len() < k.text.len() && k.text.contains(w.text.as_str()))
            .max_by_key(|w| w.text.len())
        {
            k.relevance = inner.relevance;
        }
    }
}

impl Rules {
    /// Reads and validates a rules file.
    pub fn load(path: &Path) -> Result<Rules, ClassifyError> {
        let text = crate::config::read(path)?;
        Rules::from_toml(path, &text)
    }

    /// Parses and validates rules; `path` only names the file in errors.
    pub fn from_toml(path: &Path, text: &str) -> Result<Rules, ClassifyError> {
        let file = File { path, text };
        let raw: RawRules = crate::config::parse_toml(path, text)?;
        let w = &raw.weights;
        let big = 1e3;
        let weights = Weights {
            title: file.number(w.title.as_ref(), "weights.title", 3.0, 0.0, big)?,
            title_region: file.number(
                w.title_region.as_ref(),
                "weights.title_region",
                6.0,
                0.0,
                big,
            )?,
            body_region: file.number(
                w.body_region.as_ref(),
                "weights.body_region",
                2.5,
                0.0,
                big,
            )?,
            source_region: file.number(
                w.source_region.as_ref(),
                "weights.source_region",
                1.5,
                0.0,
                big,
            )?,
            title_foreign: file.number(
                w.title_foreign.as_ref(),
                "weights.title_foreign",
                6.0,
                0.0,
                big,
            )?,
            body_foreign: file.number(
                w.body_foreign.as_ref(),
                "weights.body_foreign",
                3.0,
                0.0,
                big,
            )?,
            source_section: file.number(
                w.source_section.as_ref(),
                "weights.source_section",
                1.5,
                0.0,
                big,
            )?,
            model_half: file.number(
                w.model_half.as_ref(),
                "weights.model_half",
                10.0,
                0.001,
                1e9,
            )?,
        };
        let r = &raw.relevance;
        let threshold = file.number(r.threshold.as_ref(), "relevance.threshold", 0.5, 0.0, 1.0)?;
        let relevance = RelevanceParams {
            threshold,
            maybe: file.number(
                r.maybe.as_ref(),
                "relevance.maybe",
                DEFAULT_MAYBE.min(threshold),
                0.0,
                threshold,
            )?,
            // Without a bound of its own, auto mode publishes every
            // candidate, as it did before the bound existed.
            publish: file.number(
                r.publish.as_ref(),
                "relevance.publish",
                threshold,
                threshold,
                1.0,
            )?,
            bias: file.number(r.bias.as_ref(), "relevance.bias", 3.0, -big, big)?,
            body: file.number(r.body.as_ref(), "relevance.body", 0.5, 0.0, big)?,
            density: file.number(r.density.as_ref(), "relevance.density", 0.15, 0.0, big)?,
            title_marker: file.number(
                r.title_marker.as_ref(),
                "relevance.title_marker",
                0.0,
                -big,
                0.0,
            )?,
        };
        let mut keywords: Vec<Keyword> = Vec::new();
        for (text, value) in &r.keywords {
            let (i, weight) = keyword(
                &file,
                &mut keywords,
                text,
                value,
                &format!("relevance.keywords.{text}"),
            )?;
            keywords[i].relevance = weight;
        }
        let with_relevance = keywords.len();
        let off_topic_titles = word_list(
            &file,
            r.off_topic_titles.as_ref(),
            "relevance.off_topic_titles",
        )?;
        let official_outlets = word_list(
            &file,
            r.official_outlets.as_ref(),
            "relevance.official_outlets",
        )?;
        let official_endings = word_list(
            &file,
            r.official_endings.as_ref(),
            "relevance.official_endings",
        )?;
        let portrait_subjects = word_list(
            &file,
            r.portrait_subjects.as_ref(),
            "relevance.portrait_subjects",
        )?;
        let public_matters =
            word_list(&file, r.public_matters.as_ref(), "relevance.public_matters")?;
        let offices = word_list(&file, r.offices.as_ref(), "relevance.offices")?;
        let office_acts = word_list(&file, r.office_acts.as_ref(), "relevance.office_acts")?;
        let mut base = [0.0; 4];
        for (id, section) in &raw.sections {
            let s = SECTIONS.iter().position(|s| s == id).ok_or_else(|| {
                file.invalid(
                    section.span(),
                    &format!("sections.{id}"),
                    &format!("unknown section; expected one of {}", SECTIONS.join(", ")),
                )
            })?;
            let section = section.get_ref();
            base[s] = file.number(
                section.base.as_ref(),
                &format!("sections.{id}.base"),
                0.0,
                -big,
                big,
            )?;
            for (text, value) in &section.keywords {
                let (i, weight) = keyword(
                    &file,
                    &mut keywords,
                    text,
                    value,
                    &format!("sections.{id}.keywords.{text}"),
                )?;
                keywords[i].sections[s] = weight;
            }
        }
        let mut outlets = Vec::new();
        for (n, o) in raw.outlet.iter().enumerate() {
            let key = format!("outlet[{n}]");
            let o = o.get_ref();
            if o.pattern.get_ref().trim().is_empty() {
                return Err(file.invalid(o.pattern.span(), &format!("{key}.match"), "empty"));
            }
            let section = match &o.section {
                Some(s) => Some(file.section(s, &format!("{key}.section"))?),
                None => None,
            };
            outlets.push(Outlet {
                pattern: o.pattern.get_ref().clone(),
                relevance: file.number(
                    o.relevance.as_ref(),
                    &format!("{key}.relevance"),
                    0.0,
                    -big,
                    big,
                )?,
                section,
                weight: file.number(o.weight.as_ref(), &format!("{key}.weight"), 1.0, -big, big)?,
            });
        }
        inherit_relevance(&mut keywords, with_relevance);
        let commentary = commentary(&file, &raw.commentary)?;
        let business = business(&file, &raw.business)?;
        let title_matcher = matcher(path, "relevance.off_topic_titles", &off_topic_titles)?;
        let portrait_matcher = matcher(path, "relevance.portrait_subjects", &portrait_subjects)?;
        let public_matcher = matcher(path, "relevance.public_matters", &public_matters)?;
        let office_matcher = matcher(path, "relevance.offices", &offices)?;
        let act_matcher = matcher(path, "relevance.office_acts", &office_acts)?;
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(keywords.iter().map(|k| k.text.as_str()))
            .map_err(|e| ClassifyError::Invalid {
                path: path.to_path_buf(),
                line: 1,
                key: "keywords".into(),
                message: e.to_string(),
            })?;
        Ok(Rules {
            path: path.to_path_buf(),
            off_topic_titles,
            title_matcher,
            official_outlets,
            official_endings,
            portrait_subjects,
            portrait_matcher,
            public_matters,
            public_matcher,
            offices,
            office_matcher,
            office_acts,
            act_matcher,
            weights,
            relevance,
            base,
            keywords,
            outlets,
            commentary,
            business,
            matcher,
            fingerprint: crate::text::fnv1a(text.as_bytes()),
        })
    }

    /// Whether only official outlets' items may be candidates on the rules
    /// alone: whether either list is configured.
    pub(crate) fn checks_outlets(&self) -> bool {
        !(self.official_outlets.is_empty() && self.official_endings.is_empty())
    }

    /// Whether the outlet called `name` is official: one of
    /// `relevance.official_outlets` is in its name, or it ends with one of
    /// `relevance.official_endings`.
    pub(crate) fn is_official(&self, name: &str) -> bool {
        self.official_outlets
            .iter()
            .any(|o| name.contains(o.as_str()))
            || self
                .official_endings
                .iter()
                .any(|e| name.ends_with(e.as_str()))
    }

    /// The person `title` is about when it names one of
    /// `relevance.portrait_subjects` and none of `relevance.public_matters`:
    /// a portrait or feature story, not news of the field.
    pub(crate) fn portrait_subject(&self, title: &str) -> Option<&str> {
        if self.public_matters.is_empty() || self.public_matcher.is_match(title) {
            return None;
        }
        let m = self.portrait_matcher.find(title)?;
        self.portrait_subjects
            .get(m.pattern().as_usize())
            .map(String::as_str)
    }

    /// The office a title is about when, its name aside, the title names
    /// no keyword of the field with a positive relevance and none of
    /// `relevance.office_acts`: `人社部开展国家网络安全宣传周活动`.
    pub(crate) fn self_notice<'a>(&self, title: &'a str) -> Option<&'a str> {
        let office = self.office_matcher.find(title)?;
        let rest = self
            .office_matcher
            .replace_all(title, &vec![" "; self.offices.len()]);
        if self.act_matcher.is_match(&rest) {
            return None;
        }
        let names_the_field = self
            .matcher
            .find_iter(&rest)
            .any(|m| self.keywords[m.pattern().as_usize()].relevance > 0.0);
        (!names_the_field).then(|| &title[office.range()])
    }

    /// The first of `relevance.off_topic_titles` in `title`.
    pub(crate) fn off_topic_title(&self, title: &str) -> Option<&str> {
        let m = self.title_matcher.find(title)?;
        self.off_topic_titles
            .get(m.pattern().as_usize())
            .map(String::as_str)
    }

    /// Hits per keyword in `text` (indexes into [`Rules::keywords`]),
    /// added to `counts`.
    pub(crate) fn count(&self, text: &str, counts: &mut [u32]) {
        for m in self.matcher.find_iter(text) {
            counts[m.pattern().as_usize()] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_parse() {
        let r = Rules::default();
        assert!(r.keywords.len() > 100);
        assert_eq!(r.relevance.threshold, 0.88);
        assert_eq!(r.relevance.maybe, 0.02);
        assert!(r.relevance.publish > r.relevance.threshold);
        assert!(r.commentary.byline > 0.0 && r.commentary.dateline < 0.0);
        assert!(!r.commentary.addresses.is_empty());
    }

    #[test]
    fn rules_without_a_commentary_table_get_the_shipped_signals() {
        let r = Rules::from_toml(Path::new("r.toml"), "[relevance]\nthreshold = 0.6\n").unwrap();
        let shipped = Rules::default();
        assert_eq!(r.commentary.byline, shipped.commentary.byline);
        assert_eq!(r.commentary.arguments, shipped.commentary.arguments);
        assert_eq!(r.relevance.maybe, 0.02);
    }

    #[test]
    fn without_a_publish_bound_auto_mode_publishes_every_candidate() {
        let r = Rules::from_toml(Path::new("r.toml"), "[relevance]\nthreshold = 0.6\n").unwrap();
        assert_eq!(r.relevance.publish, 0.6);
    }

    #[test]
    fn a_publish_bound_under_the_threshold_is_refused_where_it_stands() {
        let text = "[relevance]\nthreshold = 0.9\npublish = 0.5\n";
        let e = Rules::from_toml(Path::new("r.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.toml:3:"), "{e}");
        assert!(e.contains("relevance.publish"), "{e}");
    }

    #[test]
    fn a_section_keyword_does_not_hide_the_relevance_inside_it() {
        let text = "[relevance]\n[relevance.keywords]\n\"技能\" = 1.3\n\
                    [sections.focus.keywords]\n\"世界技能大赛\" = 2.0\n";
        let r = Rules::from_toml(Path::new("r.toml"), text).unwrap();
        let k = r
            .keywords
            .iter()
            .find(|k| k.text == "世界技能大赛")
            .unwrap();
        assert_eq!((k.relevance, k.sections[0]), (1.3, 2.0));
    }

    #[test]
    fn errors_are_located() {
        let text = "[relevance]\nthreshold = 0.5\n\n[sections.sport]\nbase = 1.0\n";
        let e = Rules::from_toml(Path::new("r.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("r.toml:4:") || e.starts_with("r.toml:5:"),
            "{e}"
        );
        assert!(e.contains("sections.sport"), "{e}");
        let text = "[relevance]\nthreshold = 0.5\n[relevance.keywords]\n\"就业\" = \"x\"\n";
        let e = Rules::from_toml(Path::new("r.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.toml:4:"), "{e}");
        let text = "[relevance]\nthreshold = 2\n";
        let e = Rules::from_toml(Path::new("r.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.toml:2:"), "{e}");
        let text = "[relevance]\n[[outlet]]\nmatch = \"x\"\nsection = \"sports\"\n";
        let e = Rules::from_toml(Path::new("r.toml"), text)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "r.toml:4: `outlet[0].section`: unknown section `sports`; expected one of focus, regional, opinion, abroad"
        );
    }
}
