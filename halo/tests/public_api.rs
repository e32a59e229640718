//! halo's public surface is recorded in `halo/public-api.txt`: every item a
//! user can name, at the path they name it by. This test reads the sources
//! with `syn`, builds the module tree from `src/lib.rs` (following `mod`
//! declarations: inline modules, `#[path]`, `foo.rs` and `foo/mod.rs`),
//! walks it from `halo` through `pub mod`s, resolves every `pub use` to the
//! item it names, and compares the listing with the record; a change of
//! the public surface is a diff of that file, reviewed like any other.
//!
//! After an intended change:
//! `HALO_BLESS_PUBLIC_API=1 cargo test -p halo-lambda --all-features --test public_api`.
//!
//! What a line says:
//!
//! - an item at its reachable path: `halo::Ctx struct`,
//!   `halo::breaker::CircuitBreaker::from_env(…) -> …`, with a struct's public fields (`..`
//!   when it has private ones too), an enum's variants and
//!   `#[non_exhaustive]` where the item has it;
//! - a module: `halo::breaker mod`;
//! - a re-export of another crate: `halo::handler = re-export of halo_macros::handler`;
//! - a method or associated const of an inherent impl, under its type:
//!   `halo::Ctx::request_id(&self) -> &str`; a trait's methods, associated
//!   types and consts under the trait;
//! - one line per type with the traits it implements or derives:
//!   `halo::Error impls Debug, Display, …`; a public trait's blanket impls
//!   and impls for other crates' types on one line under the trait:
//!   `halo::HandlerEvent implemented by impl<T: DeserializeOwned> for T`.
//!
//! Each line ends with the `#[cfg(...)]`s that gate it, the ones of the
//! modules it is reached through and defined in included.
//!
//! An item has one public name: the test fails when one definition is
//! reachable at two paths, naming both.
//!
//! Left out: modules that are not `pub` (their items appear only where a
//! `pub use` re-exports them), `#[doc(hidden)]` modules and items (the
//! macros' `halo::__private`), `#[cfg(test)]` code, items whose `#[cfg]`
//! requires the `test-support` feature (halo's own test hooks),
//! `pub(crate)` and `pub(super)` items, and impls of types that are not
//! reachable. An impl's self type is resolved in the impl's own module
//! (its items, its `use`s, `crate::`/`super::`/`self::` paths), so a
//! private type sharing a public type's name contributes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, ImplItem, Item, TraitItem, Visibility};

const RECORD: &str = "public-api.txt";
const BLESS: &str = "HALO_BLESS_PUBLIC_API=1 cargo test -p halo-lambda --all-features --test public_api";

// ---------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------

/// What a `#[cfg]` predicate is in the builds the record describes: any
/// feature may be on, except `test-support`, and never `cfg(test)`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cfg {
    Always,
    Never,
    Maybe,
}

fn eval_cfg(meta: &syn::Meta) -> Cfg {
    match meta {
        syn::Meta::Path(path) if path.is_ident("test") => Cfg::Never,
        syn::Meta::Path(_) => Cfg::Maybe,
        syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value() == "test-support" => Cfg::Never,
            _ => Cfg::Maybe,
        },
        syn::Meta::NameValue(_) => Cfg::Maybe,
        syn::Meta::List(list) => {
            let Ok(inner) = list.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated) else {
                return Cfg::Maybe;
            };
            let values: Vec<Cfg> = inner.iter().map(eval_cfg).collect();
            if list.path.is_ident("not") {
                match values.first() {
                    Some(Cfg::Always) => Cfg::Never,
                    Some(Cfg::Never) => Cfg::Always,
                    _ => Cfg::Maybe,
                }
            } else if list.path.is_ident("all") {
                if values.contains(&Cfg::Never) {
                    Cfg::Never
                } else if values.iter().all(|v| *v == Cfg::Always) {
                    Cfg::Always
                } else {
                    Cfg::Maybe
                }
            } else if list.path.is_ident("any") {
                if values.contains(&Cfg::Always) {
                    Cfg::Always
                } else if values.iter().all(|v| *v == Cfg::Never) {
                    Cfg::Never
                } else {
                    Cfg::Maybe
                }
            } else {
                Cfg::Maybe
            }
        }
    }
}

/// Whether an item is compiled out of every build the record describes.
fn compiled_out(attrs: &[Attribute]) -> bool {
    attrs.iter().filter(|attr| attr.path().is_ident("cfg")).any(|attr| match attr.parse_args::<syn::Meta>() {
        Ok(meta) => eval_cfg(&meta) == Cfg::Never,
        Err(_) => false,
    })
}

fn is_hidden(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("doc")
            && attr
                .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                .is_ok_and(|metas| metas.iter().any(|m| m.path().is_ident("hidden")))
    })
}

fn has_attr(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident(name))
}

/// The `#[cfg(...)]`s of an item, as text.
fn cfgs_of(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .map(|attr| format!("#[{}]", tidy(&attr.meta.to_token_stream().to_string())))
        .collect()
}

fn derives_of(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .filter_map(|attr| attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated).ok())
        .flatten()
        .filter_map(|path| path.segments.last().map(|s| s.ident.to_string()))
        .collect()
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// Token text with the spaces `to_string` puts around punctuation removed.
fn tidy(text: &str) -> String {
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" :: ", "::"),
        (":: ", "::"),
        (" ;", ";"),
        (" ?", "?"),
        ("' ", "'"),
        ("# [", "#["),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        ("! ", "!"),
        ("{ ", "{"),
        (" }", "}"),
        (",}", "}"),
        (",)", ")"),
        (" : ", ": "),
        ("+? ", "+ ?"),
    ] {
        out = out.replace(from, to);
    }
    out.replace("->", " -> ").replace("  ", " ")
}

fn text(tokens: &impl ToTokens) -> String {
    tidy(&tokens.to_token_stream().to_string())
}

// ---------------------------------------------------------------------------
// The module tree
// ---------------------------------------------------------------------------

/// One module: its items (without its child modules), where it is declared
/// and how.
struct Module {
    /// Its path in the sources (`halo::saga::step`), reachable or not.
    path: String,
    parent: Option<usize>,
    is_pub: bool,
    hidden: bool,
    /// Its own `#[cfg]`s and those of the modules around it.
    cfgs: Vec<String>,
    items: Vec<Item>,
    children: Vec<(String, usize)>,
    imports: Vec<Import>,
}

/// One leaf of a `use` tree: `name` (`*` for a glob) bound to `path`.
struct Import {
    name: String,
    path: Vec<String>,
    is_pub: bool,
    hidden: bool,
    cfgs: Vec<String>,
}

/// Where a file's `mod foo;` declarations look (`foo.rs`, `foo/mod.rs`) and
/// what their `#[path]` is relative to.
struct Dirs {
    children: PathBuf,
    path_attr: PathBuf,
}

struct Crate {
    modules: Vec<Module>,
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        let syn::Meta::NameValue(nv) = &attr.meta else { return None };
        if !nv.path.is_ident("path") {
            return None;
        }
        let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value else { return None };
        Some(s.value())
    })
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            out.push((prefix.last().cloned().unwrap_or_default(), prefix.clone()));
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((n.ident.to_string(), path));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((r.rename.to_string(), path));
        }
        syn::UseTree::Glob(_) => out.push(("*".to_string(), prefix.clone())),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten_use(item, prefix, out);
            }
        }
    }
}

impl Crate {
    /// Reads the crate from `lib` (a path `read` knows) down.
    fn load(lib: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Crate {
        let mut krate = Crate { modules: Vec::new() };
        let dir = lib.parent().expect("lib.rs has a folder").to_path_buf();
        let items = parse(lib, read);
        let root = krate.push("halo".into(), None, true, false, Vec::new());
        krate.fill(root, items, &Dirs { children: dir.clone(), path_attr: dir }, read);
        krate
    }

    fn push(&mut self, path: String, parent: Option<usize>, is_pub: bool, hidden: bool, cfgs: Vec<String>) -> usize {
        self.modules.push(Module {
            path,
            parent,
            is_pub,
            hidden,
            cfgs,
            items: Vec::new(),
            children: Vec::new(),
            imports: Vec::new(),
        });
        self.modules.len() - 1
    }

    fn fill(&mut self, id: usize, items: Vec<Item>, dirs: &Dirs, read: &dyn Fn(&Path) -> Option<String>) {
        for item in items {
            let attrs: &[Attribute] = match &item {
                Item::Mod(m) => &m.attrs,
                Item::Use(u) => &u.attrs,
                Item::Struct(s) => &s.attrs,
                Item::Enum(e) => &e.attrs,
                Item::Union(u) => &u.attrs,
                Item::Trait(t) => &t.attrs,
                Item::Fn(f) => &f.attrs,
                Item::Const(c) => &c.attrs,
                Item::Static(s) => &s.attrs,
                Item::Type(t) => &t.attrs,
                Item::Macro(m) => &m.attrs,
                Item::Impl(i) => &i.attrs,
                _ => continue,
            };
            if compiled_out(attrs) {
                continue;
            }
            match item {
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let mut cfgs = self.modules[id].cfgs.clone();
                    cfgs.extend(cfgs_of(&m.attrs));
                    let path = format!("{}::{name}", self.modules[id].path);
                    let child = self.push(path, Some(id), is_pub(&m.vis), is_hidden(&m.attrs), cfgs);
                    self.modules[id].children.push((name.clone(), child));
                    let explicit = path_attr(&m.attrs);
                    match m.content {
                        Some((_, inner)) => {
                            let base = match &explicit {
                                Some(p) => dirs.path_attr.join(p),
                                None => dirs.children.join(&name),
                            };
                            self.fill(child, inner, &Dirs { children: base.clone(), path_attr: base }, read);
                        }
                        None => {
                            let (file, children) = match explicit {
                                // A file named by `#[path]` is read as a `mod.rs`.
                                Some(p) => {
                                    let file = dirs.path_attr.join(p);
                                    let folder = file.parent().expect("a file has a folder").to_path_buf();
                                    (file, folder)
                                }
                                None => {
                                    let flat = dirs.children.join(format!("{name}.rs"));
                                    if read(&flat).is_some() {
                                        (flat, dirs.children.join(&name))
                                    } else {
                                        (dirs.children.join(&name).join("mod.rs"), dirs.children.join(&name))
                                    }
                                }
                            };
                            let folder = file.parent().expect("a file has a folder").to_path_buf();
                            let inner = parse(&file, read);
                            self.fill(child, inner, &Dirs { children, path_attr: folder }, read);
                        }
                    }
                }
                Item::Use(u) => {
                    let mut leaves = Vec::new();
                    let mut prefix = Vec::new();
                    if u.leading_colon.is_some() {
                        prefix.push("::".to_string());
                    }
                    flatten_use(&u.tree, &mut prefix, &mut leaves);
                    for (name, path) in leaves {
                        self.modules[id].imports.push(Import {
                            name,
                            path,
                            is_pub: is_pub(&u.vis),
                            hidden: is_hidden(&u.attrs),
                            cfgs: cfgs_of(&u.attrs),
                        });
                    }
                }
                other => self.modules[id].items.push(other),
            }
        }
    }
}

fn parse(file: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Vec<Item> {
    let text = read(file).unwrap_or_else(|| panic!("cannot read {}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display())).items
}

fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Struct(s) => &s.ident,
        Item::Enum(e) => &e.ident,
        Item::Union(u) => &u.ident,
        Item::Trait(t) => &t.ident,
        Item::Fn(f) => &f.sig.ident,
        Item::Const(c) => &c.ident,
        Item::Static(s) => &s.ident,
        Item::Type(t) => &t.ident,
        Item::Macro(m) => m.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Struct(s) => &s.attrs,
        Item::Enum(e) => &e.attrs,
        Item::Union(u) => &u.attrs,
        Item::Trait(t) => &t.attrs,
        Item::Fn(f) => &f.attrs,
        Item::Const(c) => &c.attrs,
        Item::Static(s) => &s.attrs,
        Item::Type(t) => &t.attrs,
        Item::Macro(m) => &m.attrs,
        Item::Impl(i) => &i.attrs,
        _ => &[],
    }
}

fn item_is_pub(item: &Item) -> bool {
    match item {
        Item::Struct(s) => is_pub(&s.vis),
        Item::Enum(e) => is_pub(&e.vis),
        Item::Union(u) => is_pub(&u.vis),
        Item::Trait(t) => is_pub(&t.vis),
        Item::Fn(f) => is_pub(&f.vis),
        Item::Const(c) => is_pub(&c.vis),
        Item::Static(s) => is_pub(&s.vis),
        Item::Type(t) => is_pub(&t.vis),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Name resolution
// ---------------------------------------------------------------------------

/// What a name refers to: an item (module, index in its items), a module,
/// or something of another crate (its path).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Def {
    Item(usize, usize),
    Module(usize),
    External(String),
}

/// A name of a module: whether it is `pub` there, hidden, its `#[cfg]`s,
/// and what it refers to.
#[derive(Clone, Debug)]
struct Binding {
    is_pub: bool,
    hidden: bool,
    cfgs: Vec<String>,
    defs: Vec<Def>,
}

impl Crate {
    /// The names a module declares, imports, or takes in through globs.
    fn names(&self, m: usize, guard: &mut Vec<(usize, String)>) -> BTreeSet<String> {
        let module = &self.modules[m];
        let mut names: BTreeSet<String> = module.items.iter().filter_map(item_name).collect();
        names.extend(module.children.iter().map(|(n, _)| n.clone()));
        names.extend(module.imports.iter().filter(|i| i.name != "*").map(|i| i.name.clone()));
        for import in module.imports.iter().filter(|i| i.name == "*") {
            let key = (m, format!("*{}", import.path.join("::")));
            if guard.contains(&key) {
                continue;
            }
            guard.push(key);
            for def in self.resolve(m, &import.path, guard) {
                if let Def::Module(target) = def {
                    names.extend(self.names(target, guard));
                }
            }
            guard.pop();
        }
        names
    }

    /// The items and child modules named `name` in module `m`.
    fn declared(&self, m: usize, name: &str) -> Vec<Binding> {
        let module = &self.modules[m];
        let mut out = Vec::new();
        for (index, item) in module.items.iter().enumerate() {
            if item_name(item).as_deref() == Some(name) {
                let attrs = item_attrs(item);
                let exported = matches!(item, Item::Macro(_)) && has_attr(attrs, "macro_export");
                out.push(Binding {
                    is_pub: item_is_pub(item) || exported,
                    hidden: is_hidden(attrs),
                    cfgs: cfgs_of(attrs),
                    defs: vec![Def::Item(m, index)],
                });
            }
        }
        for (child_name, child) in &module.children {
            if child_name == name {
                out.push(Binding {
                    is_pub: self.modules[*child].is_pub,
                    hidden: self.modules[*child].hidden,
                    cfgs: Vec::new(),
                    defs: vec![Def::Module(*child)],
                });
            }
        }
        out
    }

    /// What `name` means in module `m`: its items and child modules of that
    /// name, its `use`s binding it, else what its globs bring.
    fn bindings(&self, m: usize, name: &str, guard: &mut Vec<(usize, String)>) -> Vec<Binding> {
        let key = (m, name.to_string());
        if guard.contains(&key) {
            // `use probe::probe;`: the path's `probe` is the module, not
            // the name being bound.
            return self.declared(m, name);
        }
        guard.push(key);
        let module = &self.modules[m];
        let mut out = self.declared(m, name);
        for import in module.imports.iter().filter(|i| i.name == name) {
            out.push(Binding {
                is_pub: import.is_pub,
                hidden: import.hidden,
                cfgs: import.cfgs.clone(),
                defs: self.resolve(m, &import.path, guard),
            });
        }
        if out.is_empty() {
            for import in module.imports.iter().filter(|i| i.name == "*") {
                for def in self.resolve(m, &import.path, guard) {
                    let Def::Module(target) = def else { continue };
                    for found in self.bindings(target, name, guard) {
                        let mut cfgs = import.cfgs.clone();
                        cfgs.extend(found.cfgs);
                        out.push(Binding {
                            is_pub: import.is_pub && found.is_pub,
                            hidden: import.hidden || found.hidden,
                            cfgs,
                            defs: found.defs,
                        });
                    }
                }
            }
        }
        guard.pop();
        out
    }

    /// What a path means in module `m` (`crate::`, `self::`, `super::`, a
    /// name in scope, else another crate).
    fn resolve(&self, m: usize, path: &[String], guard: &mut Vec<(usize, String)>) -> Vec<Def> {
        let Some((first, rest)) = path.split_first() else { return Vec::new() };
        let mut defs = match first.as_str() {
            "::" => return vec![Def::External(rest.join("::"))],
            "crate" => vec![Def::Module(0)],
            "self" => vec![Def::Module(m)],
            "super" => vec![Def::Module(self.modules[m].parent.expect("super of a module with a parent"))],
            name => {
                let found: Vec<Def> = self.bindings(m, name, guard).into_iter().flat_map(|b| b.defs).collect();
                if found.is_empty() {
                    return vec![Def::External(path.join("::"))];
                }
                found
            }
        };
        for segment in rest {
            // A path goes on through modules (a name that is also another
            // crate's macro, as `handler` is, means the module here).
            if defs.iter().any(|d| matches!(d, Def::Module(_))) {
                defs.retain(|d| matches!(d, Def::Module(_)));
            }
            let mut next = Vec::new();
            for def in defs {
                match def {
                    Def::Module(t) if segment == "super" => {
                        next.push(Def::Module(self.modules[t].parent.expect("super of a module with a parent")))
                    }
                    Def::Module(t) => next.extend(self.bindings(t, segment, guard).into_iter().flat_map(|b| b.defs)),
                    Def::External(p) => next.push(Def::External(format!("{p}::{segment}"))),
                    // An enum's variant or an associated item: not an item of its own.
                    Def::Item(..) => {}
                }
            }
            defs = next;
        }
        defs.sort();
        defs.dedup();
        defs
    }

    /// Whether `pub mod`s (none hidden) lead from `halo` to module `m`.
    fn declared_reachable(&self, m: usize) -> bool {
        let mut current = m;
        while let Some(parent) = self.modules[current].parent {
            let module = &self.modules[current];
            if !module.is_pub || module.hidden {
                return false;
            }
            current = parent;
        }
        true
    }

    fn item(&self, m: usize, index: usize) -> &Item {
        &self.modules[m].items[index]
    }

    /// The `#[cfg]`s of a definition: its module's and its own.
    fn def_cfgs(&self, def: &Def) -> Vec<String> {
        match def {
            Def::Item(m, i) => {
                let mut cfgs = self.modules[*m].cfgs.clone();
                cfgs.extend(cfgs_of(item_attrs(self.item(*m, *i))));
                cfgs
            }
            Def::Module(m) => self.modules[*m].cfgs.clone(),
            Def::External(_) => Vec::new(),
        }
    }

    fn def_hidden(&self, def: &Def) -> bool {
        match def {
            Def::Item(m, i) => is_hidden(item_attrs(self.item(*m, *i))),
            Def::Module(m) => self.modules[*m].hidden,
            Def::External(_) => false,
        }
    }

    fn describe(&self, def: &Def) -> String {
        match def {
            Def::Item(m, i) => {
                format!("{}::{}", self.modules[*m].path, item_name(self.item(*m, *i)).unwrap_or_default())
            }
            Def::Module(m) => format!("module {}", self.modules[*m].path),
            Def::External(p) => p.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// The walk from `halo`
// ---------------------------------------------------------------------------

/// Where each definition is reachable from `halo`, with the `#[cfg]`s on
/// the way.
#[derive(Default)]
struct Reach {
    paths: BTreeMap<Def, Vec<(String, Vec<String>)>>,
}

impl Reach {
    fn add(&mut self, def: Def, path: String, cfgs: Vec<String>) -> bool {
        let entry = self.paths.entry(def).or_default();
        let first = entry.is_empty();
        if !entry.iter().any(|(p, _)| *p == path) {
            entry.push((path, dedup(cfgs)));
        }
        first
    }
}

fn dedup(cfgs: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    cfgs.into_iter().filter(|c| seen.insert(c.clone())).collect()
}

fn walk(krate: &Crate, m: usize, path: &str, cfgs: &[String], reach: &mut Reach) {
    let mut guard = Vec::new();
    for name in krate.names(m, &mut guard) {
        for binding in krate.bindings(m, &name, &mut guard) {
            if !binding.is_pub || binding.hidden {
                continue;
            }
            for def in binding.defs {
                if krate.def_hidden(&def) {
                    continue;
                }
                if let Def::Item(dm, di) = def
                    && matches!(krate.item(dm, di), Item::Macro(_))
                {
                    // `macro_export` macros live at the crate's root.
                    continue;
                }
                let full = format!("{path}::{name}");
                let mut all = cfgs.to_vec();
                all.extend(binding.cfgs.iter().cloned());
                all.extend(krate.def_cfgs(&def));
                let all = dedup(all);
                let first = reach.add(def.clone(), full.clone(), all.clone());
                // A module is walked once: at its declared path when `pub
                // mod`s lead there, else where it is first re-exported.
                if let Def::Module(target) = def
                    && (if krate.declared_reachable(target) { full == krate.modules[target].path } else { first })
                {
                    walk(krate, target, &full, &all, reach);
                }
            }
        }
    }
}

fn reach(krate: &Crate) -> Reach {
    let mut reach = Reach::default();
    walk(krate, 0, "halo", &[], &mut reach);
    for (m, module) in krate.modules.iter().enumerate() {
        for (i, item) in module.items.iter().enumerate() {
            if let Item::Macro(mac) = item
                && has_attr(&mac.attrs, "macro_export")
                && !is_hidden(&mac.attrs)
                && let Some(name) = &mac.ident
            {
                let def = Def::Item(m, i);
                let cfgs = krate.def_cfgs(&def);
                reach.add(def, format!("halo::{name}"), cfgs);
            }
        }
    }
    reach
}

// ---------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------

fn suffix(cfgs: &[String]) -> String {
    cfgs.iter().map(|c| format!(" {c}")).collect()
}

/// `(args) -> R` of a fn, after its path: `async fn` etc. when it has
/// qualifiers.
fn signature(sig: &syn::Signature) -> String {
    let mut quals = Vec::new();
    if sig.constness.is_some() {
        quals.push("const".to_string());
    }
    if sig.asyncness.is_some() {
        quals.push("async".to_string());
    }
    if sig.unsafety.is_some() {
        quals.push("unsafe".to_string());
    }
    if let Some(abi) = &sig.abi {
        quals.push(text(abi));
    }
    let quals = if quals.is_empty() { String::new() } else { format!(" {} fn", quals.join(" ")) };
    let generics = if sig.generics.params.is_empty() { String::new() } else { text(&sig.generics) };
    let inputs = text(&sig.inputs).trim_end_matches(',').to_string();
    let output = text(&sig.output);
    let output = if output.is_empty() { String::new() } else { format!(" {}", output.trim()) };
    format!("{quals}{generics}({inputs}){output}{}", where_of(&sig.generics))
}

/// ` where A: B, C: D` (no trailing comma), or nothing.
fn where_of(generics: &syn::Generics) -> String {
    generics
        .where_clause
        .as_ref()
        .filter(|w| !w.predicates.is_empty())
        .map(|w| format!(" {}", text(w).trim_end_matches(',')))
        .unwrap_or_default()
}

/// `<A, B: C>` with the where clause after, or nothing.
fn generics_of(generics: &syn::Generics) -> String {
    let params = if generics.params.is_empty() { String::new() } else { text(generics) };
    format!("{params}{}", where_of(generics))
}

fn non_exhaustive(attrs: &[Attribute]) -> &'static str {
    if has_attr(attrs, "non_exhaustive") { " #[non_exhaustive]" } else { "" }
}

fn fields_of(fields: &syn::Fields) -> String {
    let public: Vec<String> = fields
        .iter()
        .filter(|f| is_pub(&f.vis) && !is_hidden(&f.attrs) && !compiled_out(&f.attrs))
        .map(|f| {
            let name = f.ident.as_ref().map(|i| format!("{i}: ")).unwrap_or_default();
            format!("{name}{}{}", text(&f.ty), suffix(&cfgs_of(&f.attrs)))
        })
        .collect();
    let private = fields.iter().any(|f| !is_pub(&f.vis));
    let mut shown = public;
    if private {
        shown.push("..".to_string());
    }
    match fields {
        syn::Fields::Named(_) => format!(" {{ {} }}", shown.join(", ")).replace("{  }", "{}"),
        syn::Fields::Unnamed(_) => format!("({})", shown.join(", ")),
        syn::Fields::Unit => String::new(),
    }
}

/// The line of an item at `path` (without its `#[cfg]`s), and the lines of
/// a trait's items.
fn item_lines(item: &Item, path: &str) -> (String, Vec<String>) {
    let mut members = Vec::new();
    let line = match item {
        Item::Struct(s) => {
            format!("{path}{} struct{}{}", non_exhaustive(&s.attrs), generics_of(&s.generics), fields_of(&s.fields))
        }
        Item::Union(u) => {
            format!("{path} union{}{}", generics_of(&u.generics), fields_of(&syn::Fields::Named(u.fields.clone())))
        }
        Item::Enum(e) => {
            let variants: Vec<String> = e
                .variants
                .iter()
                .filter(|v| !is_hidden(&v.attrs) && !compiled_out(&v.attrs))
                .map(|v| format!("{}{}", v.ident, suffix(&cfgs_of(&v.attrs))))
                .collect();
            format!("{path}{} enum{} {{ {} }}", non_exhaustive(&e.attrs), generics_of(&e.generics), variants.join(", "))
        }
        Item::Trait(t) => {
            let supers = if t.supertraits.is_empty() { String::new() } else { format!(": {}", text(&t.supertraits)) };
            for inner in &t.items {
                let (attrs, line) = match inner {
                    TraitItem::Fn(f) => (&f.attrs, format!("{path}::{}{}", f.sig.ident, signature(&f.sig))),
                    TraitItem::Type(ty) => {
                        let bounds =
                            if ty.bounds.is_empty() { String::new() } else { format!(": {}", text(&ty.bounds)) };
                        let default = ty.default.as_ref().map(|(_, d)| format!(" = {}", text(d))).unwrap_or_default();
                        (&ty.attrs, format!("{path}::{} type{bounds}{default}", ty.ident))
                    }
                    TraitItem::Const(c) => (&c.attrs, format!("{path}::{} const: {}", c.ident, text(&c.ty))),
                    _ => continue,
                };
                if is_hidden(attrs) || compiled_out(attrs) {
                    continue;
                }
                members.push((line, cfgs_of(attrs)));
            }
            let unsafety = if t.unsafety.is_some() { " unsafe" } else { "" };
            let params = if t.generics.params.is_empty() { String::new() } else { text(&t.generics) };
            format!("{path}{unsafety} trait{params}{supers}{}", where_of(&t.generics))
        }
        Item::Fn(f) => format!("{path}{}", signature(&f.sig)),
        Item::Const(c) => format!("{path} const: {}", text(&c.ty)),
        Item::Static(s) => {
            let mutability = if matches!(s.mutability, syn::StaticMutability::Mut(_)) { " mut" } else { "" };
            format!("{path} static{mutability}: {}", text(&s.ty))
        }
        Item::Type(t) => format!("{path} type{} = {}", generics_of(&t.generics), text(&t.ty)),
        Item::Macro(_) => format!("{path} macro_rules!"),
        _ => unreachable!("only named items are reachable"),
    };
    (line, members.into_iter().map(|(l, c)| format!("{l}{}", suffix(&c))).collect())
}

/// What the walk found: the record's lines, the definitions reachable at
/// more than one path, and how many items of each kind it lists.
struct Listing {
    lines: BTreeSet<String>,
    duplicates: Vec<(String, Vec<String>)>,
    kinds: BTreeMap<&'static str, usize>,
}

fn kind_of(item: &Item) -> &'static str {
    match item {
        Item::Struct(_) => "struct",
        Item::Enum(_) => "enum",
        Item::Union(_) => "union",
        Item::Trait(_) => "trait",
        Item::Fn(_) => "fn",
        Item::Const(_) => "const",
        Item::Static(_) => "static",
        Item::Type(_) => "type alias",
        Item::Macro(_) => "macro",
        _ => "other",
    }
}

/// The type an impl is for, resolved in the impl's module: the
/// definitions it names, or `None` for a blanket impl (`for T`).
fn impl_target(krate: &Crate, m: usize, imp: &syn::ItemImpl) -> Option<Vec<Def>> {
    let params: BTreeSet<String> = imp.generics.type_params().map(|p| p.ident.to_string()).collect();
    let mut ty = &*imp.self_ty;
    while let syn::Type::Reference(r) = ty {
        ty = &r.elem;
    }
    let path = match ty {
        syn::Type::Path(p) if p.qself.is_none() => &p.path,
        syn::Type::TraitObject(obj) => match obj.bounds.first() {
            Some(syn::TypeParamBound::Trait(bound)) => &bound.path,
            _ => return Some(Vec::new()),
        },
        _ => return Some(Vec::new()),
    };
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if segments.len() == 1 && params.contains(&segments[0]) {
        return None;
    }
    let mut segments = segments;
    if path.leading_colon.is_some() {
        segments.insert(0, "::".into());
    }
    Some(krate.resolve(m, &segments, &mut Vec::new()))
}

fn listing(krate: &Crate) -> Listing {
    let reach = reach(krate);
    let mut lines = BTreeSet::new();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut duplicates = Vec::new();
    // Trait and derive names per reachable type, impls per public trait.
    let mut impls: BTreeMap<Def, BTreeSet<String>> = BTreeMap::new();
    let mut implemented_by: BTreeMap<Def, BTreeSet<String>> = BTreeMap::new();

    for (def, paths) in &reach.paths {
        if paths.len() > 1 {
            duplicates.push((krate.describe(def), paths.iter().map(|(p, _)| p.clone()).collect()));
        }
        for (path, cfgs) in paths {
            let line = match def {
                Def::Module(_) => format!("{path} mod"),
                Def::External(target) => format!("{path} = re-export of {target}"),
                Def::Item(m, i) => {
                    let item = krate.item(*m, *i);
                    let (line, members) = item_lines(item, path);
                    *kinds.entry(kind_of(item)).or_default() += 1;
                    for member in members {
                        *kinds.entry("trait item").or_default() += 1;
                        lines.insert(format!("{member}{}", suffix(cfgs)));
                    }
                    line
                }
            };
            lines.insert(format!("{line}{}", suffix(cfgs)));
        }
        if let Def::Item(m, i) = def {
            let derives = derives_of(item_attrs(krate.item(*m, *i)));
            if !derives.is_empty() {
                impls.entry(def.clone()).or_default().extend(derives);
            }
        }
    }
    *kinds.entry("re-export of another crate").or_default() +=
        reach.paths.iter().filter(|(d, _)| matches!(d, Def::External(_))).map(|(_, p)| p.len()).sum::<usize>();

    for (m, module) in krate.modules.iter().enumerate() {
        for item in &module.items {
            let Item::Impl(imp) = item else { continue };
            if is_hidden(&imp.attrs) {
                continue;
            }
            let mut impl_cfgs = module.cfgs.clone();
            impl_cfgs.extend(cfgs_of(&imp.attrs));
            let target = impl_target(krate, m, imp);
            match &imp.trait_ {
                Some((bang, trait_path, _)) => {
                    let segments: Vec<String> = trait_path.segments.iter().map(|s| s.ident.to_string()).collect();
                    let last = trait_path.segments.last().map(text).unwrap_or_default();
                    let name = format!("{}{last}", if bang.is_some() { "!" } else { "" });
                    let targets: Vec<Def> = target.clone().unwrap_or_default();
                    let reachable: Vec<&Def> = targets.iter().filter(|d| reach.paths.contains_key(*d)).collect();
                    if !reachable.is_empty() {
                        for def in reachable {
                            let type_cfgs = &reach.paths[def][0].1;
                            let extra: Vec<String> =
                                impl_cfgs.iter().filter(|c| !type_cfgs.contains(c)).cloned().collect();
                            let extra =
                                if extra.is_empty() { String::new() } else { format!(" ({})", extra.join(" ")) };
                            impls.entry(def.clone()).or_default().insert(format!("{name}{extra}"));
                        }
                        continue;
                    }
                    if targets.iter().any(|d| matches!(d, Def::Item(..))) {
                        // A type of halo's that is not reachable.
                        continue;
                    }
                    let traits = krate.resolve(m, &segments, &mut Vec::new());
                    for trait_def in traits.iter().filter(|d| reach.paths.contains_key(*d)) {
                        let trait_cfgs = &reach.paths[trait_def][0].1;
                        let extra: Vec<String> =
                            impl_cfgs.iter().filter(|c| !trait_cfgs.contains(c)).cloned().collect();
                        let params = if imp.generics.params.is_empty() { String::new() } else { text(&imp.generics) };
                        let extra = if extra.is_empty() { String::new() } else { format!(" ({})", extra.join(" ")) };
                        implemented_by.entry(trait_def.clone()).or_default().insert(format!(
                            "impl{params} for {}{}{extra}",
                            text(&imp.self_ty),
                            where_of(&imp.generics)
                        ));
                    }
                }
                None => {
                    for def in target.unwrap_or_default() {
                        let Some(paths) = reach.paths.get(&def) else { continue };
                        let context = if imp.generics.params.is_empty() {
                            String::new()
                        } else {
                            let params = text(&imp.generics);
                            format!(" in impl{params} {}{}", text(&imp.self_ty), where_of(&imp.generics))
                        };
                        for inner in &imp.items {
                            let (attrs, member, kind) = match inner {
                                ImplItem::Fn(f) if is_pub(&f.vis) => {
                                    (&f.attrs, format!("{}{}", f.sig.ident, signature(&f.sig)), "method")
                                }
                                ImplItem::Const(c) if is_pub(&c.vis) => {
                                    (&c.attrs, format!("{} const: {}", c.ident, text(&c.ty)), "associated const")
                                }
                                _ => continue,
                            };
                            if is_hidden(attrs) || compiled_out(attrs) {
                                continue;
                            }
                            for (path, cfgs) in paths {
                                let mut all = cfgs.clone();
                                all.extend(impl_cfgs.iter().cloned());
                                all.extend(cfgs_of(attrs));
                                *kinds.entry(kind).or_default() += 1;
                                lines.insert(format!("{path}::{member}{context}{}", suffix(&dedup(all))));
                            }
                        }
                    }
                }
            }
        }
    }
    for (def, traits) in impls {
        for (path, cfgs) in &reach.paths[&def] {
            let traits: Vec<&str> = traits.iter().map(String::as_str).collect();
            lines.insert(format!("{path} impls {}{}", traits.join(", "), suffix(cfgs)));
        }
    }
    for (def, by) in implemented_by {
        for (path, cfgs) in &reach.paths[&def] {
            let by: Vec<&str> = by.iter().map(String::as_str).collect();
            lines.insert(format!("{path} implemented by {}{}", by.join("; "), suffix(cfgs)));
        }
    }
    Listing { lines, duplicates, kinds }
}

fn halo_listing() -> Listing {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("lib.rs");
    let krate = Crate::load(&lib, &|p| std::fs::read_to_string(p).ok());
    listing(&krate)
}

fn render(listing: &Listing) -> String {
    let mut text = listing.lines.iter().cloned().collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn the_public_api_is_the_recorded_one() {
    let record = Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORD);
    let listing = halo_listing();
    let current = render(&listing);
    if std::env::var_os("HALO_BLESS_PUBLIC_API").is_some() {
        std::fs::write(&record, &current).expect("the record is writable");
        println!("recorded {} lines; listed by kind: {:?}", current.lines().count(), listing.kinds);
        return;
    }
    let recorded = std::fs::read_to_string(&record).unwrap_or_default();
    if recorded == current {
        return;
    }
    let old: BTreeSet<&str> = recorded.lines().collect();
    let new: BTreeSet<&str> = current.lines().collect();
    let removed: Vec<String> = old.difference(&new).map(|l| format!("- {l}")).collect();
    let added: Vec<String> = new.difference(&old).map(|l| format!("+ {l}")).collect();
    panic!(
        "halo's public API differs from halo/{RECORD} (- recorded, + current):\n{}\n{}\n\n\
         If the change is intended, record it: {BLESS}",
        removed.join("\n"),
        added.join("\n")
    );
}

#[test]
fn every_item_has_one_public_name() {
    let listing = halo_listing();
    let found: Vec<String> = listing
        .duplicates
        .iter()
        .map(|(def, paths)| format!("{def} is reachable as {}", paths.join(" and ")))
        .collect();
    assert!(found.is_empty(), "an item must have one public path:\n{}", found.join("\n"));
}

#[test]
fn the_walk_lists_reachable_paths_only() {
    let listing = halo_listing();
    let lines = &listing.lines;
    assert!(lines.iter().all(|l| l.starts_with("halo")), "every line starts with a path from halo");
    assert!(lines.iter().any(|l| l == "halo::Ctx::request_id(&self) -> &str"), "methods sit under their type's path");
    assert!(lines.iter().any(|l| l.starts_with("halo::Ctx struct")), "a re-export lists the item at its path");
    assert!(lines.iter().any(|l| l.starts_with("halo::breaker::CircuitBreaker")), "items of public modules");
    assert!(lines.iter().any(|l| l.starts_with("halo::handler = re-export of halo_macros::handler")), "other crates");
    assert!(lines.iter().any(|l| l.starts_with("halo::Error impls ") && l.contains("Display")), "trait impls");
    assert!(!lines.iter().any(|l| l.starts_with("halo::context")), "a private module has no path");
    assert!(!lines.iter().any(|l| l.contains("__private")), "the macros' module is not public API");
    // `event::scan` has a private `Record` (the idempotency one is public)
    // and `saga::step` a private `SharedState` (the breaker one is public).
    assert!(!lines.iter().any(|l| l.contains("Collect<")), "the private Record's impl is left out");
    assert!(!lines.iter().any(|l| l.contains("halo::event::Record")), "the private Record has no path");
    assert!(
        lines.iter().any(|l| l.starts_with("halo::breaker::store::SharedState impls Clone, Debug, Eq, PartialEq")),
        "the breaker's SharedState derives its traits"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("halo::breaker::store::SharedState impls") && l.contains(", Debug, Debug")),
        "the saga's private SharedState adds no Debug"
    );
    assert!(lines.len() > 300, "the walk went through the module tree");
}

// Unit tests of the resolver, on crates written here.

fn listing_of(files: &[(&str, &str)]) -> Listing {
    let files: HashMap<PathBuf, String> =
        files.iter().map(|(path, text)| (Path::new("/src").join(path), (*text).to_string())).collect();
    let krate = Crate::load(Path::new("/src/lib.rs"), &|p| files.get(p).cloned());
    listing(&krate)
}

fn lines_of(files: &[(&str, &str)]) -> Vec<String> {
    listing_of(files).lines.into_iter().collect()
}

#[test]
fn a_pub_use_through_a_private_module_lists_the_item_at_the_reexport() {
    let lines = lines_of(&[
        ("lib.rs", "mod inner; pub use inner::Thing;"),
        (
            "inner.rs",
            "pub struct Thing { pub a: u8, b: u8 } impl Thing { pub fn get(&self) -> u8 { self.a } fn hid() {} }",
        ),
    ]);
    assert_eq!(lines, ["halo::Thing struct { a: u8, .. }", "halo::Thing::get(&self) -> u8"]);
}

#[test]
fn globs_renames_groups_and_paths_resolve() {
    let lines = lines_of(&[
        (
            "lib.rs",
            "pub mod api; mod a { pub mod b; } #[cfg(feature = \"x\")] mod c { pub fn f() {} pub const N: u8 = 1; }",
        ),
        ("a/b.rs", "pub enum E { One, Two } pub(crate) struct Hidden;"),
        (
            "api/mod.rs",
            "pub use crate::a::b::*; pub use super::c::{self as _c_mod, f as g}; #[path = \"deep/x.rs\"] mod x; pub use self::x::Y;",
        ),
        ("api/deep/x.rs", "pub type Y = u8;"),
    ]);
    assert_eq!(
        lines,
        [
            "halo::api mod",
            "halo::api::E enum { One, Two }",
            "halo::api::Y type = u8",
            "halo::api::_c_mod mod #[cfg(feature = \"x\")]",
            "halo::api::_c_mod::N const: u8 #[cfg(feature = \"x\")]",
            "halo::api::_c_mod::f() #[cfg(feature = \"x\")]",
            "halo::api::g() #[cfg(feature = \"x\")]",
        ]
    );
    let duplicates = listing_of(&[
        ("lib.rs", "pub mod api; mod a { pub mod b; } #[cfg(feature = \"x\")] mod c { pub fn f() {} }"),
        ("a/b.rs", ""),
        ("api.rs", "pub use super::c::{self as m, f as g};"),
    ])
    .duplicates;
    assert_eq!(
        duplicates,
        [("halo::c::f".to_string(), vec!["halo::api::g".to_string(), "halo::api::m::f".to_string()])]
    );
}

#[test]
fn an_item_reachable_at_two_paths_is_a_duplicate() {
    let listing = listing_of(&[(
        "lib.rs",
        "pub mod a { pub struct S; } pub use a::S; pub use other::m; pub mod b { pub use other::m; }",
    )]);
    let found: Vec<(String, Vec<String>)> = listing.duplicates;
    assert_eq!(
        found,
        [
            ("halo::a::S".to_string(), vec!["halo::S".to_string(), "halo::a::S".to_string()]),
            ("other::m".to_string(), vec!["halo::b::m".to_string(), "halo::m".to_string()]),
        ]
    );
}

#[test]
fn a_private_type_sharing_a_public_name_contributes_nothing() {
    let lines = lines_of(&[
        ("lib.rs", "mod public; mod private; pub use public::Record;"),
        (
            "public.rs",
            "#[derive(Clone)] #[non_exhaustive] pub enum Record { A } impl Record { pub fn a() {} } impl std::fmt::Display for Record {}",
        ),
        ("private.rs", "use std::fmt; struct Record; impl Record { pub fn leak() {} } impl fmt::Debug for Record {}"),
    ]);
    assert_eq!(
        lines,
        ["halo::Record #[non_exhaustive] enum { A }", "halo::Record impls Clone, Display", "halo::Record::a()"]
    );
}

#[test]
fn hidden_test_only_and_crate_items_are_left_out() {
    let lines = lines_of(&[(
        "lib.rs",
        "#[doc(hidden)] pub mod __private { pub fn x() {} } #[cfg(test)] pub fn t() {} \
         #[cfg(feature = \"test-support\")] pub fn hook() {} #[cfg(any(test, feature = \"test-support\"))] pub fn h2() {} \
         pub(crate) fn c() {} #[doc(hidden)] pub fn d() {} pub trait T { fn m(&self); type A; } \
         impl<X: Clone> T for X { fn m(&self) {} type A = (); } #[macro_export] macro_rules! mac { () => {} }",
    )]);
    assert_eq!(
        lines,
        [
            "halo::T implemented by impl<X: Clone> for X",
            "halo::T trait",
            "halo::T::A type",
            "halo::T::m(&self)",
            "halo::mac macro_rules!",
        ]
    );
}

#[test]
fn a_reexport_named_as_its_module_resolves_to_the_item() {
    let lines = lines_of(&[
        ("lib.rs", "pub mod outer; pub use halo_macros::outer;"),
        ("outer/mod.rs", "mod probe; pub use probe::{Health, probe};"),
        ("outer/probe.rs", "pub fn probe() -> Health { Health } #[derive(Debug)] pub struct Health;"),
    ]);
    assert_eq!(
        lines,
        [
            "halo::outer = re-export of halo_macros::outer",
            "halo::outer mod",
            "halo::outer::Health impls Debug",
            "halo::outer::Health struct",
            "halo::outer::probe() -> Health",
        ]
    );
}
