"""Cross-organisation intros: people from both sides paired for informal chats."""
