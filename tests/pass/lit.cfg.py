# lit configuration for the paella-instrument pass tests.
# meson passes the tools and the plugin through the environment.
import os
import lit.formats

config.name = "paella-pass"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".ll"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.environ.get("PAELLA_LIT_EXEC_ROOT", config.test_source_root)

llvm_bindir = os.environ.get("PAELLA_LLVM_BINDIR", "/usr/lib/llvm-22/bin")
plugin = os.environ["PAELLA_PLUGIN"]

config.environment["PATH"] = os.pathsep.join([llvm_bindir, os.environ.get("PATH", "")])
config.substitutions.append(("%plugin", plugin))
config.substitutions.append(
    ("%opt", os.path.join(llvm_bindir, "opt") + " -load-pass-plugin=" + plugin))
