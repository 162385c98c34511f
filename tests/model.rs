//! The YAML and directory forms of one tenant load into the same model.

use std::path::Path;

use claimlint::load::{discover::export_at, load_export};
use claimlint::source::SourceMap;
use claimlint::syntax::keywords::KeywordMap;

/// Writes `text` at `path` below `root`, making the folders it needs.
fn write_file(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn model_of(root: &str) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let export = export_at(&root).expect("an export");
    let mut sources = SourceMap::default();
    let loaded = load_export(&export, &KeywordMap::default(), &mut sources, &root);
    assert!(loaded.errors.is_empty(), "{root:?}: {:?}", loaded.errors);
    let mut model = serde_json::to_value(&loaded.tenant).unwrap();
    model.as_object_mut().unwrap().remove("format");
    drop_script_paths(&mut model);
    model
}

/// Script paths are written relative to different folders in the two formats; the scripts
/// themselves are compared by their text.
fn drop_script_paths(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("customScripts");
            for item in map.values_mut() {
                drop_script_paths(item);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_script_paths),
        _ => {}
    }
}

#[test]
fn both_formats_of_the_example_load_into_the_same_model() {
    let yaml = model_of("examples/tenant-export-yaml");
    let directory = model_of("examples/tenant-export");
    assert_eq!(yaml["clients"].as_array().unwrap().len(), 3);
    assert_eq!(yaml["rules"].as_array().unwrap().len(), 3);
    assert!(
        yaml["rules"][0]["script"]["text"]
            .as_str()
            .unwrap()
            .contains("function")
    );
    if yaml != directory {
        let y = serde_json::to_string_pretty(&yaml).unwrap();
        let d = serde_json::to_string_pretty(&directory).unwrap();
        for (i, (a, b)) in y.lines().zip(d.lines()).enumerate() {
            assert_eq!(a, b, "first difference at line {i}");
        }
        panic!("models differ in length");
    }
}

/// Resource files are built on several threads and joined in order: a script a later file
/// refers to lands in that file's resource, not in the first one's.
#[test]
fn scripts_of_resources_built_in_parallel_land_in_their_own_resource() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write("tenant.json", "{}");
    for i in 0..40 {
        write(
            &format!("connections/c{i:02}.json"),
            &format!(r#"{{"name": "c{i:02}", "strategy": "auth0"}}"#),
        );
    }
    let login = root.join("login.js");
    write(
        "connections/c40.json",
        &serde_json::json!({
            "name": "c40",
            "strategy": "auth0",
            "options": {"customScripts": {"login": login.to_string_lossy()}}
        })
        .to_string(),
    );
    write(
        "login.js",
        "function login(email, password, callback) { callback(null); }",
    );
    for i in 0..3 {
        write(
            &format!("actions/a{i}.json"),
            &format!(r#"{{"name": "a{i}", "code": "./actions/a{i}/code.js", "deployed": true}}"#),
        );
        write(&format!("actions/a{i}/code.js"), &format!("// action {i}"));
    }
    let export = export_at(&root).expect("an export");
    let mut sources = SourceMap::default();
    let loaded = load_export(&export, &KeywordMap::default(), &mut sources, &root);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let connections = &loaded.tenant.connections;
    assert_eq!(connections.len(), 41);
    let with_scripts: Vec<&str> = connections
        .iter()
        .filter(|c| !c.scripts.is_empty())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(with_scripts, ["c40"]);
    assert!(connections[40].scripts[0].script.text.contains("function login"));
    let actions: Vec<(&str, &str)> = loaded
        .tenant
        .actions
        .iter()
        .map(|a| (a.name.as_str(), a.code.as_ref().map_or("", |c| &*c.text)))
        .collect();
    assert_eq!(
        actions,
        [
            ("a0", "// action 0"),
            ("a1", "// action 1"),
            ("a2", "// action 2")
        ]
    );
}

/// A folder of many resource files is built in runs of files, each run into one part: every
/// file still becomes its own source, in order, with its own errors; and only the files built
/// without an error let go of their text (a released text read again after the file changed
/// reads as empty; a kept one is the text as parsed).
#[test]
fn files_built_in_runs_keep_their_order_their_errors_and_their_own_texts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write("tenant.json", "{}");
    let broken = [7, 64, 65, 199];
    for i in 0..200 {
        let text = if broken.contains(&i) {
            format!(r#"{{"name": "client {i:03}", "#)
        } else {
            format!(r#"{{"name": "client {i:03}", "app_type": "spa"}}"#)
        };
        write(&format!("clients/c{i:03}.json"), &text);
    }
    let export = export_at(&root).expect("an export");
    let mut sources = SourceMap::default();
    let loaded = load_export(&export, &KeywordMap::default(), &mut sources, &root);
    let names: Vec<String> = loaded.tenant.clients.iter().map(|c| c.name.clone()).collect();
    let expected: Vec<String> = (0..200)
        .filter(|i| !broken.contains(i))
        .map(|i| format!("client {i:03}"))
        .collect();
    assert_eq!(names, expected);
    let in_error: Vec<&str> = loaded
        .errors
        .iter()
        .map(|e| sources.get(e.loc.file).export_relative.as_str())
        .collect();
    let mut unique = in_error.clone();
    unique.dedup();
    assert_eq!(
        unique,
        [
            "clients/c007.json",
            "clients/c064.json",
            "clients/c065.json",
            "clients/c199.json"
        ]
    );
    let clients: Vec<claimlint::source::SourceId> = (0..sources.len())
        .map(|i| claimlint::source::SourceId(i as u32))
        .filter(|&id| sources.get(id).export_relative.starts_with("clients/"))
        .collect();
    let order: Vec<&str> = clients
        .iter()
        .map(|&id| sources.get(id).export_relative.as_str())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order.len(), 200);
    assert_eq!(order, sorted, "one source per file, in file order");
    // Every file changes after the run read it.
    for i in 0..200 {
        write(&format!("clients/c{i:03}.json"), r#"{"name": "changed"}"#);
    }
    for (i, &id) in clients.iter().enumerate() {
        let text = sources.get(id).text();
        if broken.contains(&i) {
            assert!(
                text.starts_with(&format!(r#"{{"name": "client {i:03}""#)),
                "{i}: {text:?}"
            );
        } else {
            assert_eq!(text, "", "client {i} was let go of and changed since");
        }
    }
}
