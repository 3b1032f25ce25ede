//! Commentary signals, part of the classify stage: the evidence a person
//! uses to tell an argument from a report when both use the same words —
//! the address's column (`/comments/`, `/pinglun/`, `views.`), a byline
//! (`□ 李锋`, `文/王某`, `作者：…`, `本报评论员`), the newswire dateline a
//! report opens with (`新华社北京10月21日电`, `本报讯`), and the argument
//! itself (`应当`, `要…`, `别让`, questions) against reporting (`记者`,
//! `获悉`). Each is weighted in `[commentary]` of the rules and explained.

use std::sync::LazyLock;

use regex::Regex;

use super::rules::Commentary;

const OPINION: usize = 2;

/// `新华社北京10月21日电`, `中新网11月3日电`, `本报讯`, `央视网消息`,
/// `人民网北京6月3日电`, `（记者 王某）` near the start.
static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:[^\s，。]{0,12}?(?:社|网|台|报)[^\s，。]{0,8}?\d{1,2}月\d{1,2}日(?:电|讯)|本报讯|[^\s，。]{0,8}网?消息[：:（(]|据[^\s，。]{1,10}(?:报道|消息)|[（(]记者)",
    )
    .expect("dateline pattern")
});

/// A wire dateline followed by a headline of its own: `新华社北京1月7日电
/// 题：春节前的“清欠”，不能止于一阵风`.
static HEADED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*[^\s，。]{0,12}?(?:社|网)[^\s，。]{0,8}?\d{1,2}月\d{1,2}日电\s*题[：:]")
        .expect("headed dispatch pattern")
});

/// A question-and-answer text: `问：…` and `答：…` paragraphs, or an
/// office's reply (`国家医保局答复：`, `作出解答`).
static QUESTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*问[：:]").expect("question pattern"));
static ANSWER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^\s*|[。？\s])答[：:]|^[^，。\n]{0,12}答复[：:]|作出解答")
        .expect("answer pattern")
});

/// A byline paragraph: `□ 李锋`, `■ 白 川`, `文/王某`, `文｜半月谈评论员`,
/// `作者：许诺（高校辅导员）`, `本报评论员`, `新华社特约评论员`, or a bare
/// name of two to four characters (`金观平`).
static BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:[□■●◎▲]\s*\S|文\s*[/／｜|]|[（(]?作者[：:系为]|本报评论员|[^\s，。]{0,8}特约评论员|[^\s，。]{0,8}评论员\s*$|\p{Han}\s?\p{Han}{1,2}(?:\s?\p{Han})?\s*$)",
    )
    .expect("byline pattern")
});

/// A byline closing the text in brackets: `（经济日报评论员）`,
/// `（本报评论员）`, `（作者系中国人民大学教授）`, `（王某 系…研究员）`.
static CLOSING_BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[（(]\s*(?:作者[^（()）]{0,40}|[^（()）\s]{0,12}评论员[^（()）]{0,12}|[^（()）]{1,10}\s?系[^（()）]{2,40})[）)]\s*$",
    )
    .expect("closing byline pattern")
});

/// The form of a title: an argument's two clauses parted by a comma, or
/// its call for means to an end (`以…托起…`), both free of figures; or a
/// headline's parts set apart by a space.
fn title_form(c: &Commentary, title: &str) -> Option<(f64, &'static str)> {
    let title = title.trim();
    let figures = title
        .chars()
        .any(|ch| ch.is_ascii_digit() || ('０'..='９').contains(&ch) || ch == '%');
    let spaced = title
        .split_whitespace()
        .filter(|part| {
            part.chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))
        })
        .count()
        > 1;
    if spaced {
        Some((c.title_spaced, "a headline's parts set apart by a space"))
    } else if !figures && title.contains('，') {
        Some((c.title_clauses, "a title of clauses without figures"))
    } else if !figures && title.starts_with('以') {
        // 以技能提升托举制造业新工匠: the means-and-end form of a call.
        Some((c.title_clauses, "a title calling for means to an end (以…)"))
    } else {
        None
    }
}

/// Adds the commentary signals of an item to the section scores.
pub(super) fn weigh(
    c: &Commentary,
    (title, body, url): (&str, &str, Option<&str>),
    section: &mut [f64; 4],
    reasons: &mut Vec<String>,
) {
    let mut add = |w: f64, why: String| {
        if w != 0.0 {
            section[OPINION] += w;
            reasons.push(format!("{why}: opinion{w:+.2}"));
        }
    };
    if let Some(url) = url
        && let Some(a) = c.addresses.iter().find(|a| url.contains(a.as_str()))
    {
        add(c.address, format!("commentary column in the address ({a})"));
    }
    let mut paragraphs = body.lines().map(str::trim).filter(|p| !p.is_empty());
    let first = paragraphs.next().unwrap_or_default();
    let last = paragraphs.next_back().unwrap_or(first);
    // `新华社北京1月7日电 题：…` heads a commentary or a feature carried
    // on the wire (新华时评, 中新网评): the dateline says who sent it, the
    // `题：` that it is not a report.
    if let Some(m) = HEADED.find(first) {
        add(c.byline, format!("wire commentary {}", m.as_str().trim()));
    } else if let Some(m) = DATELINE.find(first) {
        add(
            c.dateline,
            format!("newswire dateline {}", m.as_str().trim()),
        );
    } else if let Some(m) = CLOSING_BYLINE.find(last) {
        add(c.byline, format!("closing byline {}", m.as_str().trim()));
    } else if let Some(b) = [first, last]
        .into_iter()
        .find(|p| p.chars().count() <= 30 && BYLINE.is_match(p))
        .or_else(|| {
            // `文/宋岩 近日，…`: a byline run into the first paragraph.
            let head: String = first.chars().take(12).collect();
            (head.starts_with(['□', '■', '●', '◎']) || head.starts_with("文/")).then_some(first)
        })
    {
        let shown: String = b.chars().take(16).collect();
        add(c.byline, format!("byline {shown}"));
    }
    // A question-and-answer text asks in order to explain: its question
    // marks, in the title and the text, are not an argument's.
    let explainer = ANSWER.is_match(body) && (QUESTION.is_match(body) || !body.contains("问："));
    if explainer {
        add(
            c.explainer,
            "questions and answers: an explainer".to_string(),
        );
        return;
    }
    let chars = body.chars().count().max(300) as f64;
    let (mut argued, mut reported) = (0u32, 0u32);
    for m in c.body_matcher.find_iter(body) {
        if m.pattern().as_usize() < c.arguments.len() {
            argued += 1;
        } else {
            reported += 1;
        }
    }
    if argued > 0 {
        let density = f64::from(argued) * 1000.0 / chars;
        add(
            c.argument * density.ln_1p(),
            format!("{argued} argument markers ({density:.1}/1000)"),
        );
    }
    if reported > 0 {
        add(
            c.reporting * f64::from(reported).ln_1p(),
            format!("{reported} reporting markers"),
        );
    }
    if let Some((w, why)) = title_form(c, title) {
        add(w, why.to_string());
    }
    let in_title: Vec<&str> = c
        .title_matcher
        .find_iter(title)
        .map(|m| c.title_arguments[m.pattern().as_usize()].as_str())
        .take(2)
        .collect();
    if !in_title.is_empty() {
        add(
            c.title_argument * in_title.len() as f64,
            format!("argument in the title ({})", in_title.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datelines_are_found_at_the_start() {
        for d in [
            "新华社北京10月21日电 （记者 王某）人力资源社会保障部…",
            "中新网11月3日电 据人社部消息…",
            "本报讯（记者 李某）近日…",
            "人民网北京6月3日电 …",
            "新华社巴黎10月15日电（记者 张某）法国…",
        ] {
            assert!(DATELINE.is_match(d), "{d}");
        }
        for d in ["就业是最基本的民生。", "近日，多地通报骗取就业补贴案件"]
        {
            assert!(!DATELINE.is_match(d), "{d}");
        }
    }

    #[test]
    fn a_dateline_with_its_own_headline_is_wire_commentary() {
        let headed = "新华社北京1月7日电 题：春节前的“清欠”，不能止于一阵风";
        assert!(HEADED.is_match(headed));
        assert!(!HEADED.is_match("新华社北京1月7日电（记者 王某）人社部…"));
    }

    #[test]
    fn questions_and_answers_make_an_explainer() {
        let qa = "问：哪些人可以参加？答：离校2年内未就业高校毕业生。\n问：怎么申领？\n答：登录网上办事大厅。";
        assert!(QUESTION.is_match(qa) && ANSWER.is_match(qa));
        assert!(ANSWER.is_match("网友留言：可以吗？\n国家医保局答复：按照国家部署，…"));
        assert!(!ANSWER.is_match("群众来咨询，常常得到“你去县里问”的答复。"));
    }

    #[test]
    fn a_titles_form_tells_an_argument_from_a_headline() {
        let rules = crate::classify::Rules::default();
        let c = &rules.commentary;
        let form = |t: &str| title_form(c, t).map(|(_, why)| why);
        assert_eq!(
            form("弹性退休，关键在“自愿”二字"),
            Some("a title of clauses without figures")
        );
        assert_eq!(
            form("以工资集体协商托起职工“钱袋子”"),
            Some("a title calling for means to an end (以…)")
        );
        assert_eq!(
            form("人社部部署春风行动 提供岗位超千万个"),
            Some("a headline's parts set apart by a space")
        );
        assert_eq!(form("今年以来，全省新增就业12万人"), None);
        assert_eq!(form("以旧换新补贴发放超2000万元"), None);
        assert_eq!(form("人社部发布19个新职业"), None);
    }

    #[test]
    fn a_byline_in_brackets_can_close_the_last_paragraph() {
        for text in [
            "推进全国统筹走深走实，要久久为功。（经济日报评论员）",
            "春风才能真正吹暖务工人员的心。（本报评论员）",
            "这才是制度的温度。（作者系中国人民大学劳动人事学院教授）",
            "值得期待。(王某 系某研究院研究员)",
        ] {
            assert!(CLOSING_BYLINE.is_match(text), "{text}");
        }
        for text in [
            "全年新增就业1200万人。（记者 王某）",
            "（完）",
            "（责任编辑：李某）",
        ] {
            assert!(!CLOSING_BYLINE.is_match(text), "{text}");
        }
    }

    #[test]
    fn bylines_in_their_usual_forms() {
        for b in [
            "□ 李锋",
            "■ 白 川",
            "文/齐 悦",
            "文｜半月谈评论员 王某",
            "作者：许 诺（高校辅导员）",
            "本报评论员",
            "新华社特约评论员 王某",
            "金观平",
        ] {
            assert!(BYLINE.is_match(b), "{b}");
        }
        assert!(!BYLINE.is_match("人社部部署稳岗工作"));
    }
}
