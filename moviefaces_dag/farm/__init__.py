"""Running moviefaces on a render farm: Kubernetes step resources."""
