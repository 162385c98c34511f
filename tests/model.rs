//! The YAML and directory forms of one tenant load into the same model.

use std::path::Path;

use claimlint::load::{discover::export_at, load_export};
use claimlint::source::SourceMap;
use claimlint::syntax::keywords::KeywordMap;

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
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
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
