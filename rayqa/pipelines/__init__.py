"""rayqa.pipelines: multi-stage jobs built from the other packages (CORA iterative training, baselines, translate-test and the cross-lingual MRC tables)."""
