"""Staff work on records: owners, notes threads with @mentions, "my work", deadline reminders
and each person's calendar feed."""
