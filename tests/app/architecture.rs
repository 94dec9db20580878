//! The direction of dependencies between the crate's top-level modules, as docs/architecture.md
//! states it, read from the source: each module uses only those below it, so no two modules
//! depend on each other, however indirectly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the modules it may use. `app` (the composition root) may use all,
/// and none may use it.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("crypto", &[]),
    ("i18n", &["domain"]),
    ("config", &["crypto"]),
    ("db", &["domain"]),
    ("repos", &["db", "domain"]),
    ("transport", &["domain", "crypto"]),
    ("events", &["domain", "repos"]),
    ("services", &["domain", "db", "repos", "transport", "events", "crypto", "i18n"]),
    ("web", &["domain", "services", "events", "i18n", "crypto", "config"]),
    ("app", &["config", "events", "services", "web"]),
];

/// Every `crate::<module>` a top-level module names, with how often.
fn uses() -> BTreeMap<String, BTreeMap<String, usize>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut uses: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String =
                    line[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != module {
                    *uses.entry(module.clone()).or_default().entry(name).or_default() += 1;
                }
            }
        }
    }
    uses
}

#[test]
fn modules_use_only_those_below_them() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        ALLOWED.iter().map(|(m, deps)| (*m, deps.iter().copied().collect())).collect();
    let uses = uses();
    let mut wrong = Vec::new();
    for (module, deps) in &uses {
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{module} is not in the table: say where it stands"));
            continue;
        };
        for (dep, count) in deps {
            if !may.contains(dep.as_str()) {
                wrong.push(format!("{module} uses {dep} ({count} times)"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies against the direction of docs/architecture.md:\n{}", wrong.join("\n"));
}

#[test]
fn the_allowed_table_itself_has_no_cycle() {
    // Each module's allowed ones must already be listed above it: a cycle cannot be written.
    let mut seen = BTreeSet::new();
    for (module, deps) in ALLOWED {
        for dep in *deps {
            assert!(seen.contains(dep), "{module} may use {dep}, which comes later in the table");
        }
        seen.insert(*module);
    }
}
