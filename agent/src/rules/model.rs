//! The one rule model every front end (YAML profiles, USMT MigXML) produces and the matcher
//! consumes. Plain data: no I/O, no compiled state (see [`super::matcher::Matcher`]).

/// Which pass a component runs in: once per user profile, or once for the machine.
/// MigXML's `UserAndSystem` becomes two components, one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    User,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Include,
    Exclude,
    /// Beats every include of every component (USMT `<unconditionalExclude>`).
    UnconditionalExclude,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    File,
    Registry,
}

/// USMT's encoded pattern `Node [Leaf]`.
///
/// `node` is a folder or registry key path, variables (`%CSIDL_PERSONAL%`) still in it until
/// [`super::expand`] replaces them; `*` inside it matches any run of characters, backslashes
/// included. `recursive` is a trailing `\*` (kept out of `node`): the folder and everything
/// below it. `leaf` is a glob on the file or value name; `None` means the folder/key itself,
/// `Some("")` a registry key's default value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub kind: ObjectKind,
    pub node: String,
    pub recursive: bool,
    pub leaf: Option<String>,
}

impl Pattern {
    /// The node up to its first wildcard component: where a walk of files or keys for this
    /// pattern has to start (`C:\Users\ann\*\Docs` → `C:\Users\ann`).
    pub fn literal_node(&self) -> String {
        let parts: Vec<&str> = self
            .node
            .split('\\')
            .take_while(|p| !p.contains('*'))
            .collect();
        parts.join("\\")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub pattern: Pattern,
}

/// A MigXML condition, kept as data for the caller (who can see the offline system) to
/// answer through [`super::expand::Facts`]. Arguments are the helper's strings as written,
/// variables not yet expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// `MigXmlHelper.DoesObjectExist("File", "%CSIDL_PERSONAL%")` → name
    /// `DoesObjectExist`, args `["File", "%CSIDL_PERSONAL%"]`.
    Call {
        name: String,
        args: Vec<String>,
    },
}

/// A helper call as written in a `script=`/`filter=` attribute or a `<script>`:
/// `MigXmlHelper.RelativeMove("%CSIDL_APPDATA%\X", "%CSIDL_APPDATA%")` → name
/// `RelativeMove`, args as written (variables not expanded).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Call {
    pub name: String,
    pub args: Vec<String>,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self.args.iter().map(|a| format!("\"{a}\"")).collect();
        write!(f, "{}({})", self.name, args.join(","))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// `<text>`: a literal that may hold other variables.
    Text(String),
    /// `GetStringContent("Registry"|"File", location)` (and `GetExpandedStringContent`, or
    /// a third argument `"ExpandContent"`: `expand`): the caller reads the offline system.
    Content {
        kind: ObjectKind,
        location: String,
        expand: bool,
    },
    /// `<objectSet>`: the content of the first object it names, through the
    /// `<content filter>` (`ExtractDirectory`, `ExtractSingleFile`) when there is one.
    Objects {
        patterns: Vec<Pattern>,
        filter: Option<Call>,
    },
}

/// `<content filter="ExtractSingleFile(…)">` in an include/exclude: the files named inside
/// the objects of `from` (registry values, usually) become objects of the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRule {
    pub action: Action,
    pub filter: Call,
    pub from: Vec<Pattern>,
}

/// Rules that hold only where a condition does (`<rules>` or `<objectSet>` with
/// `<conditions>`, `<detects>` inside `<rules>`), and rules whose objects only the offline
/// system can name (`<content>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedRules {
    /// `None`: always (content rules without a condition).
    pub when: Option<Condition>,
    pub rules: Vec<Rule>,
    pub content: Vec<ContentRule>,
}

/// What a LoadState-side element asks for, kept as data for the restore side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreKind {
    /// `<merge script>`: SourcePriority, DestinationPriority, NewestVersion…
    Merge,
    /// `<locationModify script>`: RelativeMove, ExactMove, Move.
    LocationModify,
    /// `<contentModify script>`: SetValueByTable, KeepExisting, MergeMultiSzContent…
    ContentModify,
    /// `<destinationCleanup>`: delete on the destination before applying.
    DestinationCleanup,
    /// `<include filter>` (IgnoreIrrelevantLinks, NeverRestore, FileProperties…).
    IncludeFilter,
    /// `<exclude filter>`.
    ExcludeFilter,
    /// `<addObjects>`: objects emulated as if they existed on the source.
    AddObjects,
}

impl RestoreKind {
    /// The MigXML element it comes from.
    pub fn element(self) -> &'static str {
        match self {
            RestoreKind::Merge => "merge",
            RestoreKind::LocationModify => "locationModify",
            RestoreKind::ContentModify => "contentModify",
            RestoreKind::DestinationCleanup => "destinationCleanup",
            RestoreKind::IncludeFilter => "include filter",
            RestoreKind::ExcludeFilter => "exclude filter",
            RestoreKind::AddObjects => "addObjects",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreRule {
    pub kind: RestoreKind,
    /// The helper; `None` for a `<destinationCleanup>` without a filter.
    pub script: Option<Call>,
    /// The objects it applies to (its `<objectSet>` patterns).
    pub patterns: Vec<Pattern>,
    /// Filled by evaluation: the helper's arguments with the pass's variables (the
    /// component's own too) replaced; one naming a variable without a value stays as written.
    pub source_args: Vec<String>,
}

/// A component-private variable (MigXML `<environment>`), used only by its own patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub value: VarValue,
    /// The enclosing `<environment>`'s `<conditions>`; `None` = always.
    pub when: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub scope: Scope,
    pub rules: Vec<Rule>,
    /// File the component came from (profile or MigXML path, or `builtin:NAME`).
    pub source: String,
    /// MigXML `<detects>`/`<detection>`: the component only runs where this holds.
    /// `None` = always present (YAML profiles, MigXML without detection).
    pub detect: Option<Condition>,
    pub variables: Vec<Variable>,
    /// Conditional and content-derived rules (see [`GuardedRules`]).
    pub guarded: Vec<GuardedRules>,
    /// LoadState-side instructions, recorded for the restore side.
    pub restore: Vec<RestoreRule>,
    /// MigXML `<component type>`: where Config.xml lists it.
    pub category: Category,
    /// The `<migration urlid>` of its file (Config.xml IDs start with it).
    pub urlid: Option<String>,
}

/// MigXML `<component type="System|Application|Device|Documents">`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    System,
    Application,
    Device,
    /// Also every YAML profile component (they take files).
    #[default]
    Documents,
}

impl Category {
    pub fn from_type(t: &str) -> Category {
        match t.trim().to_ascii_lowercase().as_str() {
            "system" => Category::System,
            "application" => Category::Application,
            "device" => Category::Device,
            _ => Category::Documents,
        }
    }
}

impl Component {
    pub fn new(name: impl Into<String>, scope: Scope, source: impl Into<String>) -> Self {
        Component {
            name: name.into(),
            scope,
            rules: Vec::new(),
            source: source.into(),
            detect: None,
            variables: Vec::new(),
            guarded: Vec::new(),
            restore: Vec::new(),
            category: Category::default(),
            urlid: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    pub components: Vec<Component>,
    /// What a front end or the expansion could not honour, in words for the technician.
    pub warnings: Vec<String>,
}

impl RuleSet {
    /// Several profiles / MigXML files together, as ScanState takes several `/i:` files.
    pub fn merge(&mut self, other: RuleSet) {
        self.components.extend(other.components);
        self.warnings.extend(other.warnings);
    }
}
