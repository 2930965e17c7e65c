import SwitchboardCore

/// The store is every engine's port, over SQLite and PostgreSQL.
extension Store: DialQueue, TextQueue, WebhookOutbox, CallAnalysisQueue {}
