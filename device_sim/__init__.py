"""A simulated appliance fleet: fridges with realistic physics, labelled fault injection,
and the MQTT publisher and HTTP provisioning that make it look like real devices."""
