//! halo's public surface is recorded in `halo/public-api.txt`: every `pub`
//! item of every module (with its signature), every `pub use`, every
//! method of an `impl` block, every trait implementation. This test lists
//! them from the sources and compares; a change of the public surface is a
//! diff of that file, reviewed like any other.
//!
//! After an intended change: `HALO_BLESS_PUBLIC_API=1 cargo test -p halo-lambda --test public_api`.
//!
//! Left out: `#[doc(hidden)]` items (the macros' `halo::__private`),
//! `#[cfg(test)]` code and `pub(crate)` items.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, TraitItem, Visibility};

const RECORD: &str = "public-api.txt";

/// What the walk found: the lines of public items, and the lines of `impl`
/// blocks keyed by their self type (kept only when that type is public).
#[derive(Default)]
struct Listing {
    items: BTreeSet<String>,
    impls: Vec<(String, String)>,
    public_types: BTreeSet<String>,
}

fn is_hidden(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        (attr.path().is_ident("doc") && attr.to_token_stream().to_string().contains("hidden"))
            || (attr.path().is_ident("cfg") && attr.to_token_stream().to_string().contains("test"))
    })
}

/// The `#[cfg(...)]` of an item, as a suffix.
fn cfg_of(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .map(|attr| format!(" #[{}]", tidy(&attr.meta.to_token_stream().to_string())))
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
        (" : ", ": "),
        ("+? ", "+ ?"),
    ] {
        out = out.replace(from, to);
    }
    out.replace("->", " -> ").replace("  ", " ")
}

fn signature(sig: &syn::Signature) -> String {
    tidy(&sig.to_token_stream().to_string())
}

fn self_type(imp: &syn::ItemImpl) -> String {
    let generics = tidy(&imp.generics.to_token_stream().to_string());
    let ty = tidy(&imp.self_ty.to_token_stream().to_string());
    match &imp.trait_ {
        Some((bang, path, _)) => {
            let not = if bang.is_some() { "!" } else { "" };
            format!("impl{generics} {not}{} for {ty}", tidy(&path.to_token_stream().to_string()))
        }
        None => format!("impl{generics} {ty}"),
    }
}

fn list(items: &[Item], module: &str, dir: &Path, file_is_mod_rs: bool, out: &mut Listing) {
    for item in items {
        match item {
            Item::Mod(m) if !is_hidden(&m.attrs) => {
                let name = m.ident.to_string();
                let path = format!("{module}::{name}");
                let cfg = cfg_of(&m.attrs);
                if is_pub(&m.vis) {
                    out.items.insert(format!("{module} pub mod {name}{cfg}"));
                }
                match &m.content {
                    Some((_, inner)) => list(inner, &path, &dir.join(&name), true, out),
                    None => {
                        let explicit = m.attrs.iter().find_map(|attr| {
                            let syn::Meta::NameValue(nv) = &attr.meta else { return None };
                            if !nv.path.is_ident("path") {
                                return None;
                            }
                            let syn::Expr::Lit(lit) = &nv.value else { return None };
                            let syn::Lit::Str(s) = &lit.lit else { return None };
                            Some(s.value())
                        });
                        let base = if file_is_mod_rs { dir.to_path_buf() } else { dir.join(module_file_stem(module)) };
                        let (file, sub_dir, is_mod_rs) = match explicit {
                            Some(p) => {
                                let file = base.join(p);
                                let sub = file.parent().expect("a file has a folder").to_path_buf();
                                (file.clone(), sub, file.ends_with("mod.rs"))
                            }
                            None if base.join(format!("{name}.rs")).exists() => {
                                (base.join(format!("{name}.rs")), base.clone(), false)
                            }
                            None => (base.join(&name).join("mod.rs"), base.join(&name), true),
                        };
                        list_file(&file, &path, &sub_dir, is_mod_rs, out);
                    }
                }
            }
            Item::Fn(f) if is_pub(&f.vis) && !is_hidden(&f.attrs) => {
                out.items.insert(format!("{module} pub {}{}", signature(&f.sig), cfg_of(&f.attrs)));
            }
            Item::Struct(s) if is_pub(&s.vis) && !is_hidden(&s.attrs) => {
                let fields: Vec<String> = s
                    .fields
                    .iter()
                    .filter(|f| is_pub(&f.vis))
                    .map(|f| {
                        let name = f.ident.as_ref().map(|i| format!("{i}: ")).unwrap_or_default();
                        format!("{name}{}", tidy(&f.ty.to_token_stream().to_string()))
                    })
                    .collect();
                let generics = tidy(&s.generics.to_token_stream().to_string());
                let fields = if fields.is_empty() { String::new() } else { format!(" {{ {} }}", fields.join(", ")) };
                out.public_types.insert(s.ident.to_string());
                out.items.insert(format!("{module} pub struct {}{generics}{fields}{}", s.ident, cfg_of(&s.attrs)));
            }
            Item::Enum(e) if is_pub(&e.vis) && !is_hidden(&e.attrs) => {
                let variants: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
                let generics = tidy(&e.generics.to_token_stream().to_string());
                out.public_types.insert(e.ident.to_string());
                out.items.insert(format!(
                    "{module} pub enum {}{generics} {{ {} }}{}",
                    e.ident,
                    variants.join(", "),
                    cfg_of(&e.attrs)
                ));
            }
            Item::Trait(t) if is_pub(&t.vis) && !is_hidden(&t.attrs) => {
                out.public_types.insert(t.ident.to_string());
                out.items.insert(format!("{module} pub trait {}{}", t.ident, cfg_of(&t.attrs)));
                for inner in &t.items {
                    let line = match inner {
                        TraitItem::Fn(f) if !is_hidden(&f.attrs) => signature(&f.sig),
                        TraitItem::Type(ty) => format!("type {}", ty.ident),
                        TraitItem::Const(c) if !is_hidden(&c.attrs) => format!("const {}", c.ident),
                        _ => continue,
                    };
                    out.items.insert(format!("{module} trait {} {line}", t.ident));
                }
            }
            Item::Const(c) if is_pub(&c.vis) && !is_hidden(&c.attrs) => {
                let ty = tidy(&c.ty.to_token_stream().to_string());
                out.items.insert(format!("{module} pub const {}: {ty}{}", c.ident, cfg_of(&c.attrs)));
            }
            Item::Static(s) if is_pub(&s.vis) && !is_hidden(&s.attrs) => {
                let ty = tidy(&s.ty.to_token_stream().to_string());
                out.items.insert(format!("{module} pub static {}: {ty}", s.ident));
            }
            Item::Type(t) if is_pub(&t.vis) && !is_hidden(&t.attrs) => {
                let ty = tidy(&t.ty.to_token_stream().to_string());
                let generics = tidy(&t.generics.to_token_stream().to_string());
                out.public_types.insert(t.ident.to_string());
                out.items.insert(format!("{module} pub type {}{generics} = {ty}{}", t.ident, cfg_of(&t.attrs)));
            }
            Item::Use(u) if is_pub(&u.vis) && !is_hidden(&u.attrs) => {
                let tree = tidy(&u.tree.to_token_stream().to_string());
                out.items.insert(format!("{module} pub use {tree}{}", cfg_of(&u.attrs)));
            }
            Item::Macro(m) if m.attrs.iter().any(|a| a.path().is_ident("macro_export")) && !is_hidden(&m.attrs) => {
                let name = m.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                out.items.insert(format!("halo macro_rules! {name}"));
            }
            Item::Impl(imp) if !is_hidden(&imp.attrs) => {
                let head = self_type(imp);
                let cfg = cfg_of(&imp.attrs);
                let owner = type_name(&imp.self_ty);
                if imp.trait_.is_some() {
                    out.impls.push((owner, format!("{module} {head}{cfg}")));
                    continue;
                }
                for inner in &imp.items {
                    if let ImplItem::Fn(f) = inner
                        && is_pub(&f.vis)
                        && !is_hidden(&f.attrs)
                    {
                        out.impls.push((owner.clone(), format!("{module} {head} pub {}{cfg}", signature(&f.sig))));
                    }
                    if let ImplItem::Const(c) = inner
                        && is_pub(&c.vis)
                        && !is_hidden(&c.attrs)
                    {
                        out.impls.push((owner.clone(), format!("{module} {head} pub const {}", c.ident)));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The name of an impl's self type: the last segment of its path (through
/// references), or the whole type for anything else.
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        syn::Type::Reference(reference) => type_name(&reference.elem),
        // `impl<T: ...> Trait for T`: a blanket impl, public when its trait is.
        other => tidy(&other.to_token_stream().to_string()),
    }
}

/// The last segment of a module path (the file stem of a non-`mod.rs` module).
fn module_file_stem(module: &str) -> &str {
    module.rsplit("::").next().unwrap_or(module)
}

fn list_file(file: &Path, module: &str, dir: &Path, is_mod_rs: bool, out: &mut Listing) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display()));
    list(&parsed.items, module, dir, is_mod_rs, out);
}

fn current_api() -> String {
    let src: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Listing::default();
    list_file(&src.join("lib.rs"), "halo", &src, true, &mut out);
    let Listing { mut items, impls, public_types } = out;
    for (owner, line) in impls {
        // A blanket impl (`for T`) is kept when its trait is public.
        let blanket_of_public_trait =
            owner.len() == 1 && public_types.iter().any(|t| line.contains(&format!(" {t} for ")));
        if public_types.contains(&owner) || blanket_of_public_trait {
            items.insert(line);
        }
    }
    let mut text = items.into_iter().collect::<Vec<_>>().join("\n");
    text.push('\n');
    text
}

#[test]
fn the_public_api_is_the_recorded_one() {
    let record = Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORD);
    let current = current_api();
    if std::env::var_os("HALO_BLESS_PUBLIC_API").is_some() {
        std::fs::write(&record, &current).expect("the record is writable");
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
        "halo's public API differs from halo/{RECORD}:\n{}\n{}\n\nIf the change is intended, record it: \
         HALO_BLESS_PUBLIC_API=1 cargo test -p halo-lambda --test public_api",
        removed.join("\n"),
        added.join("\n")
    );
}

#[test]
fn the_listing_sees_items_signatures_and_hidden_modules() {
    let api = current_api();
    assert!(api.contains("halo pub use context::{Ctx, CtxBuilder}"), "re-exports are listed");
    assert!(api.lines().any(|l| l.starts_with("halo::context impl Ctx pub fn request_id(&self) -> &str")), "methods");
    assert!(!api.contains("__private"), "the macros' module is not public API");
    assert!(api.lines().count() > 300, "the listing walked the module tree");
}
