"""Interop: other tools reading what a terraml environment deployed.

`terraml.interop.pulumi` (optional extra `terraml[pulumi]`): a Pulumi program reads an
environment's neutral stack outputs from its Terraform state. Nothing in terraml imports
this package; it only imports `core` (and `terraml.local` for the emulator's state folder).
"""
