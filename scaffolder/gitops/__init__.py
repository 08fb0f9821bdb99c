"""Git and GitHub: branches, commits and pull requests, without touching the user's
checkout (:mod:`.git`), and the small GitHub interface the rollout needs (:mod:`.github`)."""
