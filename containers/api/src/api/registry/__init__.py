"""The model registry as the investor sees it: versions, their cards, the production one."""
