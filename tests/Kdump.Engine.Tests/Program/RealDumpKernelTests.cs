using System.Globalization;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;
using Kdump.Engine.Types;

namespace Kdump.Engine.Tests.Program;

/// <summary>The kernel layer on the generated real dumps (Debian 6.1 under QEMU), checked against the manifest's ground truth.</summary>
public class RealDumpKernelTests
{
    private static IEnumerable<(string Name, string Path, int Level)> Dumps(JsonDocument m, string dir)
    {
        foreach (var d in m.RootElement.GetProperty("dumps").EnumerateArray())
        {
            var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToArray();
            if (files.Length != 1 || !File.Exists(files[0])) continue;
            if (d.GetProperty("run").GetString() != "pvpanic") continue;
            yield return (d.GetProperty("name").GetString()!, files[0], d.GetProperty("dumpLevel").GetInt32());
        }
    }

    private static ulong Hex(string s) => ulong.Parse(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static KernelProgram Open(DumpFile dump) => new(dump, dump.VmcoreInfo, dump.Cpus);

    [SampleFact]
    public void SampleKallsymsMatchSystemMap() => KallsymsMatchSystemMapShiftedByKaslr(TestEnvironment.SamplesDir);
    [SampleFact]
    public void SampleBtfDescribesTaskStruct() => BtfFromTheDumpDescribesTaskStruct(TestEnvironment.SamplesDir);
    [SampleFact]
    public void SampleKernelTextTranslates() => KernelTextTranslatesThroughPageTablesToTheSameBytes(TestEnvironment.SamplesDir);
    [SampleFact]
    public void SampleUserAddressesMatchPagemap() => UserAddressesTranslatePerPagemapGroundTruth(TestEnvironment.SamplesDir, anyLevel: true);

    [FixtureFact]
    public void FixtureKallsymsMatchSystemMap() => KallsymsMatchSystemMapShiftedByKaslr(TestEnvironment.FixturesDir!);
    [FixtureFact]
    public void FixtureBtfDescribesTaskStruct() => BtfFromTheDumpDescribesTaskStruct(TestEnvironment.FixturesDir!);
    [FixtureFact]
    public void FixtureKernelTextTranslates() => KernelTextTranslatesThroughPageTablesToTheSameBytes(TestEnvironment.FixturesDir!);
    [FixtureFact]
    public void FixtureUserAddressesMatchPagemap() => UserAddressesTranslatePerPagemapGroundTruth(TestEnvironment.FixturesDir!, anyLevel: false);

    private static void KallsymsMatchSystemMapShiftedByKaslr(string dir)
    {
        using var m = TestEnvironment.LoadManifest(dir);
        ulong kaslr = m.RootElement.GetProperty("kernelOffset").GetString() is { } ko ? Hex(ko) : 0;
        var map = SystemMap.Load(Path.Combine(dir, m.RootElement.GetProperty("systemMap").GetString()!), kaslr);
        foreach (var (name, path, _) in Dumps(m, dir).Take(3))
        {
            using var dump = DumpFile.Open(path);
            var k = Open(dump);
            var syms = k.Symbols.OfType<SymbolTable>().Single(t => t.Source.StartsWith("kallsyms"));
            Assert.True(syms.Count > 50_000, $"{name}: only {syms.Count} kallsyms symbols");
            int compared = 0, mismatched = 0;
            var firstBad = new List<string>();
            foreach (var s in map.Enumerate())
            {
                if (s.Address < X86_64Translator.StartKernelMap || s.Type is not ('T' or 'D' or 'B' or 'R')) continue;
                var ks = syms.FindByName(s.Name);
                if (ks is null) continue;
                compared++;
                if (ks.Address != s.Address) { mismatched++; if (firstBad.Count < 5) firstBad.Add($"{s.Name}: kallsyms 0x{ks.Address:x} map 0x{s.Address:x}"); }
            }
            Assert.True(compared > 10_000, $"{name}: compared only {compared}");
            Assert.True(mismatched == 0, $"{name}: {mismatched} of {compared} differ: {string.Join("; ", firstBad)}");
            Assert.Equal(dump.VmcoreInfo!.TryGetSymbol("_stext", out var st) ? st : syms.FindByName("_stext")!.Address, syms.FindByName("_stext")!.Address);
        }
    }

    private static void BtfFromTheDumpDescribesTaskStruct(string dir)
    {
        using var m = TestEnvironment.LoadManifest(dir);
        foreach (var (name, path, _) in Dumps(m, dir).Take(3))
        {
            using var dump = DumpFile.Open(path);
            var k = Open(dump);
            var task = Assert.IsType<KStructType>(k.FindType("struct task_struct"));
            foreach (var member in new[] { "pid", "comm", "tasks", "mm", "tgid", "__state" })
                Assert.True(task.TryFindMember(member, out _, out _), $"{name}: task_struct.{member}");
            Assert.Contains("BTF in the dump", k.TypeSourceText);
            // init_task reads back as swapper/0 with pid 0
            var init = k.Variable("init_task");
            Assert.Equal(0, init.ReadField<int>("pid"));
            Assert.StartsWith("swapper", init["comm"].ReadString());
        }
    }

    private static void KernelTextTranslatesThroughPageTablesToTheSameBytes(string dir)
    {
        using var m = TestEnvironment.LoadManifest(dir);
        foreach (var (name, path, _) in Dumps(m, dir).Take(3))
        {
            using var dump = DumpFile.Open(path);
            var k = Open(dump);
            ulong stext = k.GetSymbol("_stext").Address;
            var walk = k.Translator.Translate(stext, AddressSpace.KernelVirtual);
            Assert.Equal(TranslationStatus.Mapped, walk.Status);
            var x86 = Assert.IsType<X86_64Translator>(k.Translator);
            Assert.True(x86.TryKernelImageToPhysical(stext, out var linear));
            Assert.Equal(linear, walk.PhysicalAddress);
            var viaTables = new byte[256];
            k.Physical.Read(walk.PhysicalAddress!.Value, viaTables);
            Assert.Equal(k.ReadKernel(stext, 256), viaTables);
            // direct map: page_offset_base from the variable agrees with the page-table walk
            ulong dm = k.Translator.PhysicalToKernelVirtual(walk.PhysicalAddress.Value);
            Assert.Equal(walk.PhysicalAddress, k.Translator.Translate(dm, AddressSpace.KernelVirtual).PhysicalAddress);
            Assert.Equal("symbol", x86.PageOffsetBaseSource);
        }
    }

    private static void UserAddressesTranslatePerPagemapGroundTruth(string dir, bool anyLevel)
    {
        using var m = TestEnvironment.LoadManifest(dir);
        if (!m.RootElement.GetProperty("truth").TryGetProperty("pagemap", out var pm) || pm.GetArrayLength() == 0) return;
        var (name, path, _) = Dumps(m, dir).First(d => anyLevel || d.Level == 0);
        using var dump = DumpFile.Open(path);
        var k = Open(dump);
        var taskType = k.FindType("struct task_struct");
        var init = k.Variable("init_task");
        var pgdByPid = new Dictionary<int, ulong>();
        foreach (var t in k.ListForEachEntry(init["tasks"].Address, taskType, "tasks", max: 100_000))
        {
            ulong mm = t["mm"].ReadPointer();
            if (mm == 0) continue;
            ulong pgd = k.Object(mm, "struct mm_struct")["pgd"].ReadPointer();
            pgdByPid[t.ReadField<int>("pid")] = k.Translator.ToPhysical(pgd, AddressSpace.KernelVirtual);
        }
        int checkedEntries = 0;
        foreach (var e in pm.EnumerateArray())
        {
            int pid = e.GetProperty("pid").GetInt32();
            if (!pgdByPid.TryGetValue(pid, out var root)) continue;
            ulong va = Hex(e.GetProperty("address").GetString()!);
            var tr = k.Translator.Translate(va, AddressSpace.UserVirtual(root));
            if (e.GetProperty("present").GetBoolean())
            {
                Assert.Equal(TranslationStatus.Mapped, tr.Status);
                Assert.Equal((ulong)e.GetProperty("pfn").GetInt64(), tr.PhysicalAddress!.Value >> 12);
            }
            else if (e.GetProperty("swapped").GetBoolean())
            {
                Assert.Equal(TranslationStatus.Swapped, tr.Status);
                Assert.Equal((uint)e.GetProperty("swapType").GetInt32(), tr.SwapType);
                Assert.Equal((ulong)e.GetProperty("swapOffset").GetInt64(), tr.SwapOffset);
            }
            checkedEntries++;
        }
        Assert.True(checkedEntries > 0, $"{name}: no pagemap entry matched a task");
    }
}
