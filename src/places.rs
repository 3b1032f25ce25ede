//! Place names, layer 1 (shared helpers): the gazetteer of the 34
//! provincial-level divisions, their prefecture-level cities, and foreign
//! countries and international bodies, with the words that hide a place
//! name without meaning it.
//!
//! Two stages read it: dedup (two reports of one template about different
//! provinces are two stories) and classify (a province pulls to
//! `regional`, a foreign country to `abroad`). The lists are data files
//! under `data/places/`, compiled in and parsed once; each file's header
//! says where it comes from and when it was compiled.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::text::data_lines;

const PROVINCES: &str = include_str!("../data/places/provinces.txt");
const CITIES: &str = include_str!("../data/places/cities.txt");
const FOREIGN: &str = include_str!("../data/places/foreign.txt");
const STOPS: &str = include_str!("../data/places/stop-words.txt");

/// Suffixes that make an ambiguous city name (`大同*`) a place.
const PLACE_SUFFIXES: [&str; 4] = ["市", "州", "地区", "盟"];

/// A provincial-level division.
#[derive(Debug, Clone)]
pub struct Province {
    /// What a bulletin title uses: 黑龙江, 内蒙古, 宁夏.
    pub short: String,
    /// The official name: 黑龙江省, 内蒙古自治区.
    pub full: String,
}

/// What a name in the text stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Index into [`Gazetteer::provinces`]; `city` when named by a city.
    Province { index: usize, city: bool },
    /// Index into [`Gazetteer::foreign`].
    Foreign(usize),
}

/// One place named in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub place: Place,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

pub struct Gazetteer {
    pub provinces: Vec<Province>,
    /// Canonical names of foreign countries and bodies.
    pub foreign: Vec<String>,
    matcher: AhoCorasick,
    /// Per pattern: the place, or `None` for a stop word.
    targets: Vec<Option<Place>>,
}

/// The built-in gazetteer.
pub fn gazetteer() -> &'static Gazetteer {
    static G: LazyLock<Gazetteer> = LazyLock::new(Gazetteer::build);
    &G
}

impl Gazetteer {
    fn build() -> Gazetteer {
        let mut provinces = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut targets = Vec::new();
        for line in data_lines(PROVINCES) {
            let names: Vec<&str> = line.split('|').map(str::trim).collect();
            let index = provinces.len();
            provinces.push(Province {
                short: names[0].to_string(),
                full: names[1].to_string(),
            });
            for name in names {
                patterns.push(name.to_string());
                targets.push(Some(Place::Province { index, city: false }));
            }
        }
        for line in data_lines(CITIES) {
            let (province, cities) = line.split_once(':').expect("`省: 市 市` in cities.txt");
            let index = provinces
                .iter()
                .position(|p| p.short == province.trim())
                .unwrap_or_else(|| panic!("cities.txt: unknown province {province}"));
            let place = Some(Place::Province { index, city: true });
            for city in cities.split_whitespace() {
                if let Some(city) = city.strip_suffix('*') {
                    for suffix in PLACE_SUFFIXES {
                        patterns.push(format!("{city}{suffix}"));
                        targets.push(place);
                    }
                } else {
                    patterns.push(city.to_string());
                    targets.push(place);
                }
            }
        }
        let mut foreign: Vec<String> = Vec::new();
        for line in data_lines(FOREIGN) {
            let (name, canonical) = line.split_once('|').unwrap_or((line, line));
            let index = match foreign.iter().position(|f| f == canonical) {
                Some(i) => i,
                None => {
                    foreign.push(canonical.to_string());
                    foreign.len() - 1
                }
            };
            patterns.push(name.to_string());
            targets.push(Some(Place::Foreign(index)));
        }
        for stop in data_lines(STOPS) {
            patterns.push(stop.to_string());
            targets.push(None);
        }
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("gazetteer automaton");
        Gazetteer {
            provinces,
            foreign,
            matcher,
            targets,
        }
    }

    /// The province with this short or full name.
    pub fn province(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.provinces
            .iter()
            .position(|p| p.short == name || p.full == name)
            .or_else(|| {
                // A name like "黑龙江省人社厅" or "兰州市": the first place in it.
                self.mentions(name).find_map(|m| match m.place {
                    Place::Province { index, .. } => Some(index),
                    Place::Foreign(_) => None,
                })
            })
    }

    /// The places named in `text`, in order.
    pub fn mentions<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Mention> + 'a {
        self.matcher.find_iter(text).filter_map(move |m| {
            let place = self.targets[m.pattern().as_usize()]?;
            // "8日本市" is a date, not Japan.
            if text[m.start()..].starts_with('日')
                && text[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_digit() || c.is_whitespace())
            {
                return None;
            }
            Some(Mention {
                place,
                start: m.start(),
                end: m.end(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Option<String> {
        let g = gazetteer();
        g.mentions(text).next().map(|m| match m.place {
            Place::Province { index, .. } => g.provinces[index].short.clone(),
            Place::Foreign(i) => g.foreign[i].clone(),
        })
    }

    #[test]
    fn provinces_and_cities() {
        let g = gazetteer();
        assert_eq!(g.provinces.len(), 34);
        assert_eq!(first("龙岩市开展").as_deref(), Some("福建"));
        assert_eq!(first("兰州市人社局").as_deref(), Some("甘肃"));
        assert_eq!(first("内蒙古自治区人社厅").as_deref(), Some("内蒙古"));
        assert_eq!(first("宁夏回族自治区").as_deref(), Some("宁夏"));
        assert_eq!(first("来宾参观"), None);
        assert_eq!(first("来宾市举办").as_deref(), Some("广西"));
        assert_eq!(first("今日本市气温"), None);
        assert_eq!(first("英国内政部").as_deref(), Some("英国"));
        assert_eq!(first("依法国有资产"), None);
        assert_eq!(first("日本厚生劳动省").as_deref(), Some("日本"));
    }

    #[test]
    fn about_330_prefectures() {
        let cities = data_lines(CITIES)
            .map(|l| l.split_once(':').unwrap().1.split_whitespace().count())
            .sum::<usize>();
        assert!(cities >= 330, "{cities}");
    }
}
