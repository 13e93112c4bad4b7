//! Choosing a format by name or by guess.

use stateprop::import::Format;

#[test]
fn formats_parse_by_name() {
    assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    assert_eq!("Jepsen".parse::<Format>().unwrap(), Format::Jepsen);
    assert_eq!(" edn".parse::<Format>().unwrap(), Format::Edn);
    let e = "yaml".parse::<Format>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown history format `yaml` (expected json, jepsen or edn)"
    );
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
    }
}

#[test]
fn formats_are_guessed_by_extension_then_content() {
    assert_eq!(Format::guess("h.json", "whatever"), Some(Format::Json));
    assert_eq!(Format::guess("h.EDN", ""), Some(Format::Edn));
    assert_eq!(Format::guess("etcd_000.log", ""), Some(Format::Jepsen));
    let guess = |text: &str| Format::guess("history.txt", text);
    assert_eq!(guess("\n [ {\"type\": \"invoke\"}]"), Some(Format::Json));
    assert_eq!(guess("[]"), Some(Format::Json));
    assert_eq!(guess("{:process 0, :type :invoke}"), Some(Format::Edn));
    assert_eq!(guess("[{:process 0}\n {:process 1}]"), Some(Format::Edn));
    assert_eq!(guess("#jepsen.history.Op{:process 0}"), Some(Format::Edn));
    assert_eq!(guess("; comment\n{:process 0}"), Some(Format::Edn));
    assert_eq!(
        guess("INFO  jepsen.util - 0\t:invoke\t:read\tnil"),
        Some(Format::Jepsen)
    );
    assert_eq!(guess("hello"), None);
    assert_eq!(guess(""), None);
    assert_eq!(guess("{}"), None);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/porcupine");
    for (path, format) in [
        ("kv/c10-ok.txt", Format::Edn),
        ("jepsen/etcd_000.log", Format::Jepsen),
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{path}")).unwrap();
        assert_eq!(Format::guess(path, &text), Some(format));
        assert_eq!(Format::guess("no-extension", &text), Some(format));
    }
}
