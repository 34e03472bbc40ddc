//! The findings an operator reads, as data: [`Msg`] carries the facts (key,
//! value, file), never words; the area files of this folder write them out.

/// What kind of value a key wants; named in "wrong type" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Text,
    Integer,
    Number,
    Bool,
    Date,
    TextList,
    TextOrList,
    BoolOrText,
    DurationText,
    Table,
    TableList,
    DateList,
}

/// Every operator-facing finding. Fields carry the facts; [`Msg::render`]
/// writes them out in the chosen language, always with what to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    // --- files and syntax ---
    FileUnreadable {
        detail: String,
    },
    NotUtf8,
    TomlSyntax {
        detail: String,
    },
    NoBroadcasts,
    NoScheduleFiles {
        dir: String,
    },
    FolderMissing {
        key: &'static str,
        dir: String,
    },

    // --- keys and types ---
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        allowed: Vec<&'static str>,
    },
    WrongType {
        key: String,
        want: Want,
        found: String,
    },
    MissingKey {
        key: &'static str,
        example: &'static str,
    },
    EmptyValue {
        key: String,
    },

    // --- broadcast values ---
    EmptyName,
    DuplicateName {
        name: String,
        first: String,
    },
    AtAndCron,
    NoTimes,
    BadTime {
        value: String,
    },
    DuplicateTime {
        value: String,
    },
    BadCron {
        value: String,
        detail: String,
    },
    BadDay {
        value: String,
        suggestion: Option<String>,
    },
    BadDate {
        key: String,
        value: String,
    },
    UntilBeforeFrom {
        from: String,
        until: String,
    },
    BadRepeat {
        value: i64,
    },
    BadDuration {
        key: String,
        value: String,
        max: &'static str,
    },
    BadPriority {
        value: String,
        suggestion: Option<String>,
    },
    BadVolume {
        value: String,
    },

    // --- relays (转播) ---
    PlayAndRelay,
    BadRelaySource {
        value: String,
    },
    RelayNeedsLength,
    RelayLengthTwice,
    RelayUntilNeedsOneTime,
    RelayUntilBeforeAt {
        at: String,
        until: String,
    },
    RelayOnlyKey {
        key: &'static str,
    },
    NotForRelay {
        key: &'static str,
    },

    // --- typed notices (文字广播) ---
    SayAndOther {
        key: &'static str,
    },
    SayEmpty,
    SayTooLong {
        chars: usize,
        max: usize,
    },

    // --- audio files ---
    PathAbsolute {
        path: String,
    },
    PathEscapes {
        path: String,
    },
    BadPlaceholder {
        path: String,
        placeholder: String,
    },
    FileMissing {
        path: String,
    },
    NotAFile {
        path: String,
    },
    /// A pipe, socket or device where an audio file should be.
    NotRegularFile {
        path: String,
    },
    /// A link in the audio folder leading out of it.
    FileOutside {
        path: String,
    },
    FileEmpty {
        path: String,
    },
    FileUndecodable {
        path: String,
        detail: String,
    },

    // --- station file ---
    BadTimezone {
        value: String,
        suggestion: Option<String>,
    },
    BadQuietHours {
        value: String,
    },
    BadOutput {
        value: String,
    },
    /// `run` while another daemon holds the station's lock.
    SecondDaemonRefused,
    /// A schedule file emptied of every broadcast (a save cut short?).
    ScheduleEmptied,
    /// `--station` (or CUNXIANG_STATION) names no folder.
    StationFolderMissing {
        path: String,
    },
    /// `plan --days` outside 1..=max.
    PlanDaysOutOfRange {
        value: String,
        max: u32,
    },
    /// The event store cannot be written: the daemon stops.
    StoreLostStopping,
    /// The event store cannot be read: nothing can be shown.
    StoreUnreadable,
    /// The database file is not a database, or broken inside.
    StoreDamaged,
    BadListen {
        value: String,
    },
    /// Listening beyond this machine without a token.
    ListenNeedsToken {
        value: String,
    },
    /// A setting with a value it cannot take, and how to write it.
    BadSetting {
        key: String,
        value: String,
        zh: &'static str,
        en: &'static str,
    },

    // --- a typed notice read aloud (朗读) ---
    /// The notice has no text.
    SpeechEmpty,
    /// The notice is longer than the engine is allowed to read at once.
    SpeechTooLong {
        chars: usize,
        max: usize,
    },
    /// The text-to-speech program is not installed (or not where the
    /// station says).
    SpeechEngineMissing {
        program: String,
    },
    /// The program runs but has no such voice.
    SpeechVoiceMissing {
        voice: String,
    },
    /// The program failed: its exit status and what it said.
    SpeechFailed {
        status: String,
        detail: String,
    },
    SpeechTimedOut {
        secs: u64,
    },
    /// The cache folder cannot be written or read.
    SpeechIo {
        detail: String,
    },
    /// The program ran but its sound file is empty or broken.
    SpeechBadOutput {
        detail: String,
    },

    // --- warnings ---
    /// The station file is broken: the station runs on its last good copy.
    StationOnGoodCopy {
        copy: String,
        saved: String,
    },
    /// `[folders] data` was edited while the daemon runs: it keeps its
    /// data folder until restarted.
    DataFolderChanged {
        running: String,
        configured: String,
    },
    /// The station file is broken and no good copy exists: defaults.
    StationOnDefaults {
        data: String,
        name: String,
        timezone: String,
    },
    WarnCollisionMissed {
        name: String,
        at: String,
        blocker: String,
        start: String,
        catch_up: String,
    },
    WarnQuietHours {
        name: String,
        time: String,
        quiet: String,
    },
    WarnRangeOver {
        name: String,
        until: String,
    },
    WarnDateFileMissing {
        name: String,
        dates: Vec<String>,
        path: String,
    },
    WarnFileMissingSoon {
        name: String,
        time: String,
        path: String,
    },
}
