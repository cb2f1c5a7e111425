"""The exam sitting: start and rules screens, one widget per interaction, review, timer."""
