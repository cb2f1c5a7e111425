"""The sandbox's published demo sign-in, shared by its seed data and the headless walkthrough."""

DEMO_PASSWORD = "sandbox-demo"  # published on purpose: the sandbox holds no real data
DEMO_EMAIL = "ada@lagos-ai.example"
