using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;
using Kdump.Engine.Types;

namespace Kdump.Engine.Tests.Vmlinux;

/// <summary>The debuginfo vmlinux wired into a KernelProgram on the committed sample dump, as Open-Vmcore -Vmlinux does.</summary>
public class VmlinuxOnSampleDumpTests
{
    [VmlinuxSampleFact]
    public void WiredIntoKernelProgramReadsTheDumpWithDwarfTypes()
    {
        using var dump = DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        var options = X86_64Translator.OptionsFrom(dump.VmcoreInfo, dump.Cpus);
        if (dump.VmcoreInfo is null || !dump.VmcoreInfo.TryGetNumber("phys_base", out _)) options.PhysBase = dump.PhysBase ?? 0;
        var program = new KernelProgram(dump, dump.VmcoreInfo, dump.Cpus, null, options);
        using var v = VmlinuxFile.Open(RealVmlinux.Path!);

        // identity: build-id, release and the banner read from the dump's memory at linux_banner + KASLR
        var identity = DumpIdentity.FromVmcoreInfo(dump.VmcoreInfo, (a, n) => program.ReadKernel(a, n));
        var match = VmlinuxMatcher.Check(identity, v, force: false);
        Assert.True(match.Matches);
        Assert.Equal(["build-id", "release", "linux_banner"], match.Compared);

        program.AddSymbolFinder(v.GetSymbolFinder(dump.VmcoreInfo?.KernelOffset ?? 0)!, first: true);
        program.AddTypeFinder(v.CreateLazyTypeFinder()!, first: true);
        Assert.StartsWith("vmlinux ELF symbols", program.SymbolSourceText);
        Assert.StartsWith("DWARF ", program.TypeSourceText);

        var initTask = program.Variable("init_task");
        Assert.Equal("struct task_struct", initTask.Type.DisplayName);
        Assert.Equal("swapper/0", initTask["comm"].ReadString());
        Assert.Equal(0, initTask["pid"].ReadInteger());
        Assert.True(program.TryFindEnumerator("PIDTYPE_TGID", out var tgid));
        Assert.Equal(1, tgid);
        var uts = program.Variable("init_uts_ns");
        Assert.Equal(dump.VmcoreInfo!.OsRelease, uts["name.release"].ReadString());
    }
}
