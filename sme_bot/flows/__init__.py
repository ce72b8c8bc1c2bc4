"""Questionnaires as conversations: parsing answers and stepping through questions, no I/O."""
