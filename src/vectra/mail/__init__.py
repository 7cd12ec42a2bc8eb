"""Mail: compose, approval, sending, tracking, bounces, replies, suppression."""
