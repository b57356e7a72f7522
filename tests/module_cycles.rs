//! No source file imports another that imports it back, directly or round a circle: each crate
//! (the library from `src/lib.rs`, the binary from `src/main.rs`) is read as its module tree, every
//! `use crate::…`/`super::…`/`self::…` and every inline `crate::…`/`super::…` path is resolved to
//! the file that defines what it names (following a parent's `use`/`pub use` of a child's item),
//! and the graph of files must have no cycle. Test modules count: a test that needs another file
//! makes the same knot as code that does.
//!
//! A module's file using its own children (`mod.rs` re-exporting or calling `decode::decode`) is
//! the module tree, not an import, so those edges are left out; a child using its parent's items
//! (`use super::Clip`) is kept, and a circle through a parent is still found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`["audio", "wav"]`) of a file, in its crate.
type ModPath = Vec<String>;

/// One file of a crate: where it is, its module path, and the names its top level brings in with
/// `use` (a child's `super::Name` may mean the item such a `use` names).
struct SourceFile {
    path: PathBuf,
    module: ModPath,
    tokens: Vec<String>,
    imports: BTreeMap<String, ModPath>,
}

/// Source text with comments, string and char literals blanked out (doc links such as
/// ``[`x`](crate::x)`` are no imports).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(len) = raw_string_len(rest).filter(|_| i == 0 || !is_ident(chars[i - 1]))
        {
            i += len;
            out.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if chars[i] == '\'' {
            // A char literal ('x', '\n', '\u{1F}'), else a lifetime ('a).
            let close = match rest.get(1) {
                Some('\\') => rest.iter().skip(2).position(|&c| c == '\'').map(|p| p + 3),
                Some(_) if rest.get(2) == Some(&'\'') => Some(3),
                _ => None,
            };
            match close {
                Some(len) => {
                    i += len;
                    out.push_str("' '");
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `rest`.
fn raw_string_len(rest: &[char]) -> Option<usize> {
    let start = match rest {
        ['b', 'r', ..] => 2,
        ['r', ..] => 1,
        _ => return None,
    };
    let hashes = rest[start..].iter().take_while(|&&c| c == '#').count();
    if rest.get(start + hashes) != Some(&'"') {
        return None;
    }
    let body = start + hashes + 1;
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    (body..rest.len())
        .find(|&i| rest[i..].starts_with(&closing))
        .map(|i| i + closing.len())
}

/// Identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if chars[i..].starts_with(&[':', ':']) {
            out.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

/// Expands a `use` tree (the tokens between `use` and `;`) into (name in scope, path) pairs.
fn expand_use(tokens: &[String]) -> Vec<(String, Vec<String>)> {
    fn tree(
        tokens: &[String],
        at: &mut usize,
        prefix: &[String],
        out: &mut Vec<(String, Vec<String>)>,
    ) {
        let mut path = prefix.to_vec();
        while *at < tokens.len() {
            match tokens[*at].as_str() {
                "::" => *at += 1,
                "{" => {
                    *at += 1;
                    while *at < tokens.len() && tokens[*at] != "}" {
                        tree(tokens, at, &path, out);
                        if tokens.get(*at).is_some_and(|t| t == ",") {
                            *at += 1;
                        }
                    }
                    *at += 1;
                    return;
                }
                "*" => {
                    *at += 1;
                    out.push(("*".into(), path));
                    return;
                }
                "," | "}" => break,
                "as" => {
                    let alias = tokens.get(*at + 1).cloned().unwrap_or_default();
                    *at += 2;
                    out.push((alias, path));
                    return;
                }
                name => {
                    *at += 1;
                    if name != "self" || path.is_empty() {
                        path.push(name.to_string());
                    }
                }
            }
        }
        if let Some(last) = path.last() {
            out.push((last.clone(), path.clone()));
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    tree(tokens, &mut at, &[], &mut out);
    out
}

/// The crate whose root is `root`: every file reached through `mod name;` declarations.
fn read_crate(root: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut pending = vec![(root.to_path_buf(), ModPath::new())];
    while let Some((path, module)) = pending.pop() {
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let tokens = tokens(&code_only(&source));
        // Children live beside a root or `mod.rs`, else in a folder named after the file.
        let is_dir_owner = module.is_empty() || path.file_name().is_some_and(|n| n == "mod.rs");
        let child_dir = match is_dir_owner {
            true => path.parent().unwrap().to_path_buf(),
            false => path.with_extension(""),
        };
        for w in tokens.windows(3) {
            if w[0] == "mod" && w[2] == ";" {
                let flat = child_dir.join(format!("{}.rs", w[1]));
                let nested = child_dir.join(&w[1]).join("mod.rs");
                let child = if flat.exists() { flat } else { nested };
                let mut child_module = module.clone();
                child_module.push(w[1].clone());
                pending.push((child, child_module));
            }
        }
        let imports = top_level_uses(&tokens)
            .into_iter()
            .filter_map(|(name, used)| Some((name, absolute(&module, &used)?)))
            .collect();
        files.push(SourceFile {
            path,
            module,
            tokens,
            imports,
        });
    }
    files
}

/// The `use` declarations of a file's own module (not of its inline `mod tests { … }`).
fn top_level_uses(tokens: &[String]) -> Vec<(String, Vec<String>)> {
    let mut depth = 0;
    let mut uses = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "use" if depth == 0 && tokens.get(i + 1).is_none_or(|t| t != "<") => {
                let end = tokens[i..]
                    .iter()
                    .position(|t| t == ";")
                    .map_or(tokens.len(), |p| i + p);
                uses.extend(expand_use(&tokens[i + 1..end]));
            }
            _ => {}
        }
    }
    uses
}

/// `path` as seen from module `from`, made absolute in the crate; `None` above the crate root.
fn absolute(from: &[String], path: &[String]) -> Option<ModPath> {
    let mut module: ModPath = from.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            module.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                module.pop()?;
                rest = &rest[1..];
            }
        }
        // A child module's name (`pub use decode::decode`), or another crate's, which then names
        // no file deeper than `from`'s own.
        _ => {}
    }
    module.extend(rest.iter().cloned());
    Some(module)
}

/// The file that defines what the absolute `path` names: the deepest file module on it, or, when
/// that file brought the next name in with a `use`, the file that one names.
fn defining_file<'a>(
    files: &'a [SourceFile],
    path: &[String],
    hops: usize,
) -> Option<&'a SourceFile> {
    let file = (0..=path.len())
        .rev()
        .find_map(|n| files.iter().find(|f| f.module == path[..n]))?;
    let next = path.get(file.module.len());
    match next.and_then(|name| file.imports.get(name)) {
        Some(target) if hops < 8 => defining_file(files, target, hops + 1).or(Some(file)),
        _ => Some(file),
    }
}

/// Every `crate::`/`super::`/`self::` path in a file, from `use` trees and inline code, with the
/// module it is written in (inline `mod name { … }` blocks included).
fn paths_used(file: &SourceFile) -> Vec<(ModPath, Vec<String>)> {
    let t = &file.tokens;
    let mut found = Vec::new();
    let mut module = file.module.clone();
    let mut depth = 0;
    let mut inline_at: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        match t[i].as_str() {
            "mod" if t.get(i + 2).is_some_and(|s| s == "{") => {
                module.push(t[i + 1].clone());
                inline_at.push(depth);
                depth += 1;
                i += 3;
                continue;
            }
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline_at.last() == Some(&depth) {
                    inline_at.pop();
                    module.pop();
                }
            }
            // `use<…>` is a precise-capturing bound, not an import.
            "use" if t.get(i + 1).is_none_or(|s| s != "<") => {
                let end = t[i..]
                    .iter()
                    .position(|s| s == ";")
                    .map_or(t.len(), |p| i + p);
                for (_, path) in expand_use(&t[i + 1..end]) {
                    found.push((module.clone(), path));
                }
                i = end;
                continue;
            }
            "crate" | "super" | "self"
                if t.get(i + 1).is_some_and(|s| s == "::") && (i == 0 || t[i - 1] != "::") =>
            {
                let mut path = vec![t[i].clone()];
                let mut j = i + 1;
                while t.get(j).is_some_and(|s| s == "::")
                    && t.get(j + 1)
                        .is_some_and(|s| s.starts_with(|c: char| c.is_alphabetic() || c == '_'))
                {
                    path.push(t[j + 1].clone());
                    j += 2;
                }
                found.push((module.clone(), path));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Edges between files: (from, to) → the first path that makes it.
fn import_graph(files: &[SourceFile]) -> BTreeMap<(PathBuf, PathBuf), String> {
    let mut edges = BTreeMap::new();
    for file in files {
        for (module, path) in paths_used(file) {
            let Some(target) = absolute(&module, &path).and_then(|p| defining_file(files, &p, 0))
            else {
                continue;
            };
            // A file using its own children is the module tree itself.
            if target.module.starts_with(&file.module) {
                continue;
            }
            edges
                .entry((file.path.clone(), target.path.clone()))
                .or_insert_with(|| path.join("::"));
        }
    }
    edges
}

/// Each circle of files found, as the files in order with the path that leads to the next.
fn cycles(edges: &BTreeMap<(PathBuf, PathBuf), String>) -> Vec<String> {
    let mut next: BTreeMap<&PathBuf, Vec<&PathBuf>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let mut reported: BTreeSet<BTreeSet<&PathBuf>> = BTreeSet::new();
    let mut found = Vec::new();
    for &start in next.keys() {
        // Shortest way back to `start`, breadth first.
        let mut came_from: BTreeMap<&PathBuf, &PathBuf> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut closing = None;
        while let Some(at) = queue.pop_front() {
            for &to in next.get(at).into_iter().flatten() {
                if to == start {
                    closing = Some(at);
                    break;
                }
                if !came_from.contains_key(to) {
                    came_from.insert(to, at);
                    queue.push_back(to);
                }
            }
            if closing.is_some() {
                break;
            }
        }
        let Some(mut at) = closing else { continue };
        let mut circle = vec![at];
        while at != start {
            at = came_from[at];
            circle.push(at);
        }
        circle.reverse();
        if !reported.insert(circle.iter().copied().collect()) {
            continue;
        }
        let steps: Vec<String> = circle
            .iter()
            .zip(circle.iter().cycle().skip(1))
            .map(|(&a, &b)| format!("{} --({})--> ", a.display(), edges[&(a.clone(), b.clone())]))
            .collect();
        found.push(format!("{}{}", steps.concat(), start.display()));
    }
    found
}

/// The circles among the files of the crates rooted at `roots` (paths shown relative to `base`).
fn circles_in(base: &Path, roots: &[&str]) -> Vec<String> {
    let mut all = Vec::new();
    for root in roots {
        let mut files = read_crate(&base.join(root));
        for file in &mut files {
            file.path = file.path.strip_prefix(base).unwrap().to_path_buf();
        }
        all.extend(cycles(&import_graph(&files)));
    }
    all
}

#[test]
fn no_source_file_imports_a_file_that_imports_it_back() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = circles_in(base, &["src/lib.rs", "src/main.rs"]);
    assert!(
        found.is_empty(),
        "files that import each other (move the shared items to the module that owns them):\n{}",
        found.join("\n")
    );
}

/// The check itself finds a pair, a circle of three through a parent's re-export, an inline path
/// and a test module's import, and leaves a parent and its children alone.
#[test]
fn the_check_finds_pairs_and_circles_and_spares_parents() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "src/lib.rs",
        "pub mod a;\npub mod b;\nmod tree;\npub mod pair;\n/// [`x`](crate::b::x)\npub fn root() {}\n",
    );
    // a → tree/two (through tree's re-export) → tree/one → b → a.
    write("src/a.rs", "use crate::tree::two_fn;\npub fn a() {}\n");
    write(
        "src/tree/mod.rs",
        "mod one;\nmod two;\npub use two::two_fn;\npub struct Shared;\npub fn t() { one::f() }\n",
    );
    write(
        "src/tree/one.rs",
        "use super::Shared;\npub fn f() { crate::b::g() }\n",
    );
    write(
        "src/tree/two.rs",
        "pub fn two_fn() { super::one::f(); let s = \"crate::a\"; }\n",
    );
    write(
        "src/b.rs",
        "pub fn g() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::a::a;\n}\n",
    );
    // A pair through a test module only.
    write("src/pair/mod.rs", "pub mod left;\npub mod right;\n");
    write(
        "src/pair/left.rs",
        "pub fn l() {}\n#[cfg(test)]\nmod tests { use crate::pair::right::r; }\n",
    );
    write(
        "src/pair/right.rs",
        "use super::left::l;\npub fn r() { l() }\n",
    );
    let found = circles_in(dir.path(), &["src/lib.rs"]);
    assert_eq!(found.len(), 2, "{found:#?}");
    let circle = found
        .iter()
        .find(|c| c.contains("src/a.rs"))
        .expect("the circle of four");
    for file in ["src/a.rs", "src/tree/two.rs", "src/tree/one.rs", "src/b.rs"] {
        assert!(circle.contains(file), "{circle}");
    }
    assert!(!circle.contains("src/tree/mod.rs"), "{circle}");
    let pair = found
        .iter()
        .find(|c| c.contains("left.rs"))
        .expect("the pair");
    assert!(pair.contains("src/pair/right.rs"), "{pair}");
}
