using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Symbols;
using Kdump.Engine.Tests.Translation;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Vmlinux;

/// <summary>
/// Issue 4's "done when": every fixture dump, opened with no debuginfo, with the vmlinux's BTF and with its DWARF
/// (through <see cref="Vmcore.AttachVmlinux"/>), gives symbol addresses equal to the System.map shifted by KASLR, the
/// same task list, and the pagemap truth through translation.
/// </summary>
public class ThreeWaySourcesTests
{
    private const string CachedDebugVmlinux = "/work/cache-dbg/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64";

    /// <summary>The debug vmlinux: KDUMP_VMLINUX_DEBUG / manifest vmlinuxDebug (RealVmlinux), else the shared cache; null when absent.</summary>
    public static string? DebugVmlinux => RealVmlinux.Path ?? (File.Exists(CachedDebugVmlinux) ? CachedDebugVmlinux : null);

    [FixtureFact]
    public void FixtureSymbolsTasksAndTranslationAgreeWithAndWithoutVmlinux()
    {
        var dir = TestEnvironment.FixturesDir!;
        using var m = TestEnvironment.LoadManifest(dir);
        var root = m.RootElement;
        var vmlinux = DebugVmlinux;
        if (vmlinux is not null && RealVmlinux.Str(root, "buildId") is { } want)
        {
            using var f = VmlinuxFile.Open(vmlinux);
            if (!string.Equals(f.BuildId, want, StringComparison.OrdinalIgnoreCase)) vmlinux = null; // another build: only the dump-only variant applies
        }
        var mapPath = Path.Combine(dir, root.GetProperty("systemMap").GetString()!);
        int dumps = 0;
        foreach (var d in root.GetProperty("dumps").EnumerateArray())
        {
            string run = d.GetProperty("run").GetString()!, name = d.GetProperty("name").GetString()!;
            if (!d.GetProperty("files").EnumerateArray().All(f => File.Exists(Path.Combine(dir, f.GetString()!)))) continue;
            var runInfo = root.GetProperty("runs").GetProperty(run);
            ulong kaslr = RealDumpVtopTests.Hex(runInfo.GetProperty("kernelOffset").GetString()!);
            JsonElement truth = run == "pvpanic" ? root.GetProperty("truth") : runInfo.GetProperty("truth");
            var map = SystemMap.Load(mapPath, kaslr);
            var probes = map.Enumerate().Where(s => s.Address >= X86_64Translator.StartKernelMap && s.Type is 'T' or 'D' or 'B' or 'R')
                .Where((_, i) => i % 97 == 0).ToList();
            Assert.True(probes.Count > 100, $"{name}: only {probes.Count} probe symbols");

            List<(int, string)>? baseline = null;
            foreach (var variant in new TypeSourcePreference?[] { null, TypeSourcePreference.Btf, TypeSourcePreference.Dwarf })
            {
                if (variant is not null && vmlinux is null) continue;
                string what = $"{name} ({variant?.ToString() ?? "dump only"})";
                using var v = RealDumpVtopTests.OpenEntry(dir, d);
                if (variant is { } pref) v.AttachVmlinux(vmlinux!, force: false, pref);
                var k = v.Kernel;
                Assert.Contains(variant switch { null => "BTF in the dump", TypeSourcePreference.Btf => "BTF", _ => "DWARF" }, k.TypeSourceText);
                if (variant is not null) Assert.StartsWith("vmlinux", k.SymbolSourceText);

                int bad = 0; var firstBad = new List<string>();
                foreach (var s in probes)
                {
                    ulong? got = null;
                    try { got = k.GetSymbol(s.Name).Address; } catch (KdumpException) { }
                    if (got != s.Address) { bad++; if (firstBad.Count < 5) firstBad.Add($"{s.Name}: 0x{got:x} map 0x{s.Address:x}"); }
                }
                Assert.True(bad == 0, $"{what}: {bad} of {probes.Count} symbols differ: {string.Join("; ", firstBad)}");

                var tasks = TaskTable.Get(k, v).Tasks.Select(t => (t.Pid, t.Command)).OrderBy(t => t).ToList();
                Assert.True(tasks.Count > 20, $"{what}: {tasks.Count} tasks");
                if (baseline is null) baseline = tasks;
                else Assert.Equal(baseline, tasks);

                if (truth.TryGetProperty("pagemap", out var pm) && pm.GetArrayLength() > 0)
                    Assert.Equal(pm.GetArrayLength(), RealDumpVtopTests.CheckPagemap(v, pm, what));
            }
            dumps++;
        }
        Assert.True(dumps >= 2, $"only {dumps} fixture dumps");
    }

    /// <summary>A vmlinux of another build (different build-id and release) is refused through the Vmcore model.</summary>
    [SampleFact]
    public void VmlinuxOfAnotherBuildIsRefusedWithVmlinuxMismatch()
    {
        var otherId = Convert.FromHexString("00112233445566778899aabbccddeeff00112233");
        var path = SampleVmlinux.Write(SampleVmlinux.Writer("6.1.0-18-amd64", otherId, btf: true));
        try
        {
            using var v = new Vmcore(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));
            string before = v.Kernel.SymbolSourceText;
            foreach (var pref in new[] { TypeSourcePreference.Auto, TypeSourcePreference.Btf, TypeSourcePreference.Dwarf })
            {
                var ex = Assert.Throws<KdumpException>(() => v.AttachVmlinux(path, force: false, pref));
                Assert.Equal("VmlinuxMismatch", ex.ErrorId);
                Assert.Equal(KdumpErrorKind.Mismatch, ex.Kind);
                Assert.Contains("00112233445566778899aabbccddeeff00112233", ex.Message);
                Assert.Contains(v.BuildId!, ex.Message, StringComparison.OrdinalIgnoreCase);
            }
            // refused means untouched: no vmlinux recorded, symbol sources as before
            Assert.Null(v.Vmlinux);
            Assert.Equal(before, v.Kernel.SymbolSourceText);
        }
        finally { File.Delete(path); }
    }
}
