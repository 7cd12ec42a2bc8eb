"""Agents: the runner (agent_runs), prospector, BANT qualifier, scheduler."""
