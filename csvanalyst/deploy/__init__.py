"""Running csvanalyst as a service: the application image and its smoke check (the Helm chart is in charts/)."""
