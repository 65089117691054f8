// Placeholder replaced in the bench issue.
