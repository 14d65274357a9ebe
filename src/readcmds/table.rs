//! Tables as patronictl prints them: prettytable 3 with every column left-aligned but the
//! ones asked for, a title written into the top rule (patronictl's `PatronictlPrettyTable`),
//! cells of several lines, and a rule between all rows once any cell has more than one line.

use unicode_width::UnicodeWidthStr;

/// `cells` are already sanitized line by line (a `\n` in a cell is a line of that cell).
pub fn pretty(title: &str, cols: &[&str], right: &[&str], rows: &[Vec<String>]) -> String {
    let split = |s: &str| -> Vec<String> { s.split('\n').map(str::to_string).collect() };
    let cells: Vec<Vec<Vec<String>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| split(c)).collect())
        .collect();
    let w: Vec<usize> = (0..cols.len())
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .flatten()
                .map(|l| l.width())
                .chain([cols[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let all_rules = rows.iter().flatten().any(|c| c.contains('\n'));
    let rule = format!(
        "+{}+",
        w.iter()
            .map(|n| "-".repeat(n + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |vals: &[&str]| -> String {
        let parts: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let v = vals.get(i).copied().unwrap_or("");
                // padded by hand: `{:width$}` panics on a width over u16::MAX, and a value
                // from etcd can be that long
                let pad = " ".repeat(w[i].saturating_sub(v.width()));
                if right.contains(c) {
                    format!(" {pad}{v} ")
                } else {
                    format!(" {v}{pad} ")
                }
            })
            .collect();
        format!("|{}|", parts.join("|"))
    };
    // the title replaces the start of the top rule, cut to fit between its corners
    let room = rule.chars().count().saturating_sub(2);
    let head: String = title.chars().take(room).collect();
    let top: String = rule
        .chars()
        .take(1)
        .chain(head.chars())
        .chain(rule.chars().skip(1 + head.chars().count()))
        .collect();
    let mut out = vec![top, line(cols), rule.clone()];
    for (n, r) in cells.iter().enumerate() {
        if n > 0 && all_rules {
            out.push(rule.clone());
        }
        let height = r.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let vals: Vec<&str> = r
                .iter()
                .map(|c| c.get(k).map(String::as_str).unwrap_or(""))
                .collect();
            out.push(line(&vals));
        }
    }
    out.push(rule);
    out.join("\n")
}
