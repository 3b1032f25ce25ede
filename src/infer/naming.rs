//! How inference names an element in a selector a person would write and
//! that survives small changes: an id unless it looks generated, else
//! `tag.class` with a class that says what the element is; never
//! `nth-child`.

use std::sync::LazyLock;

use regex::Regex;
use scraper::ElementRef;

/// Classes that say how an element looks or where it sits, not what it is:
/// useless for finding it again after the next restyle.
const PRESENTATIONAL: &[&str] = &[
    "clearfix",
    "clear",
    "cf",
    "fl",
    "fr",
    "left",
    "right",
    "l",
    "r",
    "active",
    "on",
    "cur",
    "current",
    "selected",
    "first",
    "last",
    "odd",
    "even",
    "hide",
    "hidden",
    "show",
    "block",
    "inline",
    "w",
    "row",
    "col",
    "container",
    "wrap",
    "wrapper",
    "inner",
    "box",
    "bg",
    "mt",
    "mb",
    "pt",
    "pb",
    "f14",
    "f16",
    "f12",
    "fs14",
    "fs16",
    "bold",
    "center",
    "tc",
    "tl",
    "tr",
];

/// An identifier that a CMS or a script made up (`comp_1234567`,
/// `ext-gen42`, `j8f3a0c9d2`): it changes with the next rebuild.
pub(crate) fn looks_generated(name: &str) -> bool {
    let mut run = 0;
    let mut longest = 0;
    for c in name.chars() {
        if c.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let hexish = name.len() >= 8
        && name.chars().filter(|c| c.is_ascii_hexdigit()).count() * 10 >= name.len() * 8;
    longest >= 3
        || hexish
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}

/// Grid and spacing classes of CSS frameworks (`col-md-9`, `span8`,
/// `mt20`, `w1200`): layout that the next restyle changes.
static LAYOUT_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:(?:col|span|grid)(?:-[a-z]{2})?-?\d+|(?:pull|float|text)-(?:left|right|center)|[mp][trblxy]?-?\d+|(?:mt|mb|ml|mr|pt|pb|pl|pr|w|h|fz|fs|lh)-?\d+|row|d-(?:none|block|flex))$",
    )
    .expect("valid layout class regex")
});

pub(crate) fn is_layout_class(class: &str) -> bool {
    LAYOUT_CLASS.is_match(class)
}

/// The element's classes worth naming, in the order written.
pub(crate) fn meaningful_classes(el: ElementRef<'_>) -> Vec<&str> {
    el.value()
        .classes()
        .filter(|c| !PRESENTATIONAL.contains(&c.to_ascii_lowercase().as_str()))
        .filter(|c| !looks_generated(c) && !is_layout_class(c))
        .collect()
}

/// `#id` when the element has an id worth naming.
pub(crate) fn id_token(el: ElementRef<'_>) -> Option<String> {
    el.value()
        .id()
        .filter(|id| !looks_generated(id))
        .map(|id| format!("#{id}"))
}

/// Ways to name this one element, best first: `#id`, then `tag.class` for
/// each meaningful class. Empty when it has neither.
pub(crate) fn anchors(el: ElementRef<'_>) -> Vec<String> {
    let tag = el.value().name();
    let mut out: Vec<String> = id_token(el).into_iter().collect();
    out.extend(
        meaningful_classes(el)
            .into_iter()
            .map(|c| format!("{tag}.{c}")),
    );
    out
}

/// `tag` with the classes every one of `els` shares (`li`, `div.item`).
pub(crate) fn shared_signature(els: &[ElementRef<'_>]) -> String {
    let Some(first) = els.first() else {
        return String::new();
    };
    let tag = first.value().name();
    let shared: Vec<&str> = meaningful_classes(*first)
        .into_iter()
        .filter(|c| {
            els.iter().all(|e| {
                e.value()
                    .has_class(c, scraper::CaseSensitivity::CaseSensitive)
            })
        })
        .collect();
    match shared.first() {
        Some(c) => format!("{tag}.{c}"),
        None => tag.to_string(),
    }
}

/// Words in ids and classes (and the headings above boxes) of page parts
/// that are not the main list or the article: navigation, header and
/// footer, sidebars of hot or recommended items, pagination, friend links.
const DECOY_WORDS: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "foot",
    "header",
    "topbar",
    "sidebar",
    "side",
    "aside",
    "hot",
    "rank",
    "paihang",
    "phb",
    "tuijian",
    "recommend",
    "tj",
    "friend",
    "yqlj",
    "links",
    "link",
    "pager",
    "paging",
    "pagination",
    "page_",
    "pages",
    "breadcrumb",
    "crumb",
    "position",
    "location",
    "weizhi",
    "dqwz",
    "zt",
    "zhuanti",
    "topic",
    "banner",
    "slide",
    "ad",
    "share",
    "related",
    "xgwz",
    "xgxw",
    "tool",
    "copyright",
    "bottom",
    "top",
    "login",
    "search",
];

/// Chinese box headings of the same decoys.
pub(crate) const DECOY_HEADINGS: &[&str] = &[
    "热点",
    "推荐",
    "排行",
    "热门",
    "相关",
    "专题",
    "友情链接",
    "图片",
    "视频",
    "阅读排行",
    "点击排行",
    "猜你喜欢",
    "网站地图",
    "联系我们",
];

/// Whether an id or class names a decoy part (`hot-news`, `sideBar`,
/// `yqlj`), matched on its word parts so that `content_list` is not `tj`.
pub(crate) fn is_decoy_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parts = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty());
    for part in parts {
        if DECOY_WORDS.contains(&part) {
            return true;
        }
        // camelCase or run-together names: `hotnews`, `sidebar01`, `footerwrap`
        if part.len() > 4
            && [
                "nav",
                "menu",
                "footer",
                "sidebar",
                "hot",
                "friend",
                "pagination",
                "breadcrumb",
            ]
            .iter()
            .any(|w| part.starts_with(w) || part.ends_with(w))
        {
            return true;
        }
    }
    false
}

/// Whether the element itself is a decoy part by tag, id or class.
pub(crate) fn is_decoy_element(el: ElementRef<'_>) -> bool {
    matches!(
        el.value().name(),
        "nav" | "header" | "footer" | "aside" | "form"
    ) || el.value().id().is_some_and(is_decoy_name)
        || el.value().classes().any(is_decoy_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_by_a_cms_are_not_names() {
        assert!(looks_generated("comp_1234567"));
        assert!(looks_generated("ext-gen123"));
        assert!(looks_generated("a8f3c09d2e"));
        assert!(!looks_generated("UCAP-CONTENT"));
        assert!(!looks_generated("insMainConTxt"));
        assert!(!looks_generated("zoom"));
    }

    #[test]
    fn grid_and_spacing_classes_are_not_names() {
        for c in [
            "col-md-9",
            "col-xs-12",
            "span8",
            "mt20",
            "w1200",
            "pull-left",
            "row",
        ] {
            assert!(is_layout_class(c), "{c}");
        }
        for c in [
            "list",
            "news-list",
            "content",
            "pubDate",
            "main_title",
            "wenjian",
            "date",
        ] {
            assert!(!is_layout_class(c), "{c}");
        }
    }

    #[test]
    fn decoy_names_are_matched_by_word() {
        assert!(is_decoy_name("hot-news"));
        assert!(is_decoy_name("sidebar01"));
        assert!(is_decoy_name("footerWrap"));
        assert!(is_decoy_name("yqlj"));
        assert!(!is_decoy_name("content_list"));
        assert!(!is_decoy_name("channelLeftPart"));
        assert!(!is_decoy_name("serviceMainListTabCon"));
        assert!(!is_decoy_name("news_box"));
    }
}
