//! Bulletin titles: `地区：…` for regional items.

use crate::places::gazetteer;

/// Suffixes of a province's name that a title may follow it with.
const SUFFIXES: [&str; 6] = [
    "维吾尔自治区",
    "回族自治区",
    "壮族自治区",
    "自治区",
    "省",
    "市",
];

/// Words of a regulation's name.
const LAW_WORDS: [&str; 3] = ["条例", "办法", "规定"];

/// Endings of an issuing body's name (`黑龙江省人社厅`, `中国人民银行黑龙江省分行`).
const BODY_ENDINGS: [&str; 14] = [
    "厅",
    "局",
    "部",
    "委",
    "会",
    "院",
    "办",
    "行",
    "署",
    "府",
    "中心",
    "分行",
    "工会",
    "联合会",
];

/// The bulletin title of an item an editor files under `section`, when no
/// editor set one: `地区：…` belongs to 各地动态 (`regional`), so an item
/// with a region moved in takes it and one moved out loses it (None: the
/// outlet's own title).
pub fn filed_title(title: &str, section: Option<&str>, region: Option<&str>) -> Option<String> {
    match (section, region) {
        (Some("regional"), Some(region)) => Some(bulletin_title(title, Some(region))),
        _ => None,
    }
}

/// The title an item carries in the bulletin: for a regional item
/// (`region` = short province name) `地区：…` without repeating the region;
/// a title already in `X：…` form and a non-regional title stay as they are.
pub fn bulletin_title(title: &str, region: Option<&str>) -> String {
    let title = title.trim();
    let Some(region) = region else {
        return title.to_string();
    };
    if let Some((head, _)) = title.split_once('：')
        && head.chars().count() <= 8
        && !head.contains(char::is_whitespace)
    {
        return title.to_string();
    }
    // "黑龙江省人社厅 中国人民银行黑龙江省分行 加大金融助企稳岗扩岗力度":
    // the leading, space-separated issuing bodies go.
    let parts: Vec<&str> = title.split_whitespace().collect();
    let mut rest = title;
    if parts.len() > 1
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| BODY_ENDINGS.iter().any(|e| p.ends_with(e)))
    {
        rest = parts[parts.len() - 1];
    }
    let g = gazetteer();
    let full = g
        .province(region)
        .map(|i| g.provinces[i].full.as_str())
        .unwrap_or(region);
    for name in [region, full] {
        if let Some(r) = rest.strip_prefix(name) {
            let suffix = SUFFIXES.iter().find(|s| r.starts_with(*s));
            // A regulation named after the region keeps its designation,
            // as the bulletin prints it: 内蒙古自治区保障农民工工资支付条例 →
            // 内蒙古：自治区保障农民工工资支付条例.
            let names_a_law = LAW_WORDS.iter().any(|w| r.contains(w));
            let r = match suffix {
                Some(s) if !names_a_law => &r[s.len()..],
                _ => r,
            };
            let r = r.trim_start_matches(|c: char| c.is_whitespace() || "，,、：:".contains(c));
            if !r.is_empty() {
                rest = r;
            }
            break;
        }
    }
    format!("{region}：{rest}")
}

#[cfg(test)]
mod tests {
    use super::bulletin_title;

    #[test]
    fn regional_titles() {
        assert_eq!(
            bulletin_title("山东省为各类就业群体提供职业技能等级认定服务", Some("山东")),
            "山东：为各类就业群体提供职业技能等级认定服务"
        );
        assert_eq!(
            bulletin_title(
                "黑龙江省人社厅 中国人民银行黑龙江省分行 加大金融助企稳岗扩岗力度",
                Some("黑龙江")
            ),
            "黑龙江：加大金融助企稳岗扩岗力度"
        );
        assert_eq!(
            bulletin_title("宁夏回族自治区实施以工助农夏季行动", Some("宁夏")),
            "宁夏：实施以工助农夏季行动"
        );
        assert_eq!(
            bulletin_title("重庆市开展欠薪整治", Some("重庆")),
            "重庆：开展欠薪整治"
        );
        assert_eq!(
            bulletin_title("河北：延续失业保险稳岗政策", Some("河北")),
            "河北：延续失业保险稳岗政策"
        );
        assert_eq!(
            bulletin_title("龙岩市推出零工驿站", Some("福建")),
            "福建：龙岩市推出零工驿站"
        );
        assert_eq!(
            bulletin_title(
                "内蒙古自治区保障农民工工资支付条例将于7月1日起实施",
                Some("内蒙古")
            ),
            "内蒙古：自治区保障农民工工资支付条例将于7月1日起实施"
        );
        assert_eq!(
            bulletin_title("人社部部署专项行动", None),
            "人社部部署专项行动"
        );
    }
}
