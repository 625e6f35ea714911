"""Domain rules: functions that take an `AsyncSession` and plain values, and know no HTTP."""
