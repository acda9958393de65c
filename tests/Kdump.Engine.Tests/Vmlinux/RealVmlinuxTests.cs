using System.Globalization;
using Kdump.Engine.Symbols;
using Kdump.Engine.Types;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Vmlinux;

/// <summary>Checks on the distribution's debuginfo vmlinux: DWARF against the same file's BTF, symbols against crash.</summary>
public class RealVmlinuxTests
{
    private readonly ITestOutputHelper _out;
    public RealVmlinuxTests(ITestOutputHelper output) { _out = output; }

    /// <summary>
    /// Every struct member the cmdlets use (dotted paths go through nested members; a|b: the kernel has one of them, e.g.
    /// module.mem since 6.4, core_layout before). Checked on whichever kernel's vmlinux is given (6.1, 6.12, 7.x).
    /// </summary>
    public static readonly (string Struct, string[] Members)[] UsedMembers =
    [
        ("task_struct", ["pid", "tgid", "comm", "tasks", "mm", "active_mm", "real_parent", "parent", "thread_group|thread_node", "signal",
            "__state", "stack", "thread.sp", "files", "fs", "on_cpu", "cpu|thread_info.cpu", "children", "sibling", "group_leader",
            "thread_pid", "flags", "exit_state", "prio", "se.sum_exec_runtime", "utime", "stime", "start_time", "cred", "nsproxy"]),
        ("mm_struct", ["mm_mt", "pgd", "rss_stat", "total_vm", "mmap_base", "start_code", "end_code", "start_stack", "arg_start", "arg_end", "map_count"]),
        ("vm_area_struct", ["vm_start", "vm_end", "vm_flags", "vm_file", "vm_pgoff", "vm_mm"]),
        ("file", ["f_path", "f_inode", "f_pos", "f_flags", "f_mode"]),
        ("files_struct", ["fdt", "fdtab"]),
        ("fdtable", ["fd", "max_fds", "open_fds"]),
        ("dentry", ["d_name", "d_parent", "d_inode", "d_sb"]),
        ("inode", ["i_mode", "i_ino", "i_size", "i_sb", "i_mapping"]),
        ("path", ["mnt", "dentry"]),
        ("qstr", ["name", "len", "hash"]),
        ("list_head", ["next", "prev"]),
        ("hlist_node", ["next", "pprev"]),
        ("pid", ["numbers", "level", "count"]),
        ("upid", ["nr", "ns"]),
        ("irq_desc", ["irq_data", "irq_data.irq", "action", "kstat_irqs", "name"]),
        ("irqaction", ["handler", "name", "next", "irq"]),
        ("swap_info_struct", ["flags", "swap_file", "pages", "inuse_pages", "prio", "bdev", "max"]),
        ("kern_ipc_perm", ["id", "key", "uid", "mode", "deleted"]),
        ("shmid_kernel", ["shm_perm", "shm_segsz", "shm_nattch", "shm_file"]),
        ("sem_array", ["sem_perm", "sem_nsems"]),
        ("msg_queue", ["q_perm", "q_qnum", "q_cbytes"]),
        ("module", ["name", "list", "state", "mem|core_layout"]),
        ("printk_ringbuffer", ["desc_ring", "text_data_ring", "fail"]),
        ("prb_desc_ring", ["count_bits", "descs", "infos", "head_id", "tail_id"]),
        ("printk_info", ["seq", "ts_nsec", "text_len", "caller_id"]),
        ("signal_struct", ["nr_threads", "thread_head", "rlim"]),
        ("mount", ["mnt", "mnt_mountpoint", "mnt_parent", "mnt_devname", "mnt_list"]),
        ("super_block", ["s_type", "s_id", "s_dev"]),
        ("rq", ["nr_running", "curr", "idle", "clock", "cfs"]),
        ("uts_namespace", ["name"]),
        ("new_utsname", ["sysname", "nodename", "release", "version", "machine"]),
    ];

    private static (ulong BitOffset, uint BitSize, ulong Size, string Type)? Resolve(ITypeFinder f, string structName, string pathAlternatives)
    {
        foreach (var path in pathAlternatives.Split('|'))
        {
            if (f.FindType(TypeKind.Struct, structName) is not KStructType s) return null;
            ulong off = 0; KMember? m = null; bool ok = true;
            foreach (var part in path.Split('.'))
            {
                if (!s.TryFindMember(part, out m, out var o)) { ok = false; break; }
                off += o;
                if (m.Type.Resolve() is KStructType inner) s = inner;
            }
            if (ok && m is not null) return (off, m.BitSize, m.Type.Size, m.Type.Resolve().Kind.ToString());
        }
        return null;
    }

    [VmlinuxFact]
    public void DwarfMemberOffsetsEqualBtfOfTheSameFile()
    {
        using var v = VmlinuxFile.Open(RealVmlinux.Path!);
        Assert.True(v.HasDwarf);
        Assert.True(v.HasBtf);
        var dwarf = v.GetDwarfTypeFinder()!;
        var btf = v.GetBtfTypeFinder()!;
        int compared = 0;
        var missing = new List<string>();
        foreach (var (st, members) in UsedMembers)
        {
            var ds = Assert.IsType<KStructType>(dwarf.FindType(TypeKind.Struct, st));
            var bs = Assert.IsType<KStructType>(btf.FindType(TypeKind.Struct, st));
            Assert.False(ds.IsIncomplete, st);
            Assert.Equal(bs.Size, ds.Size);
            Assert.Equal(bs.Members.Select(m => m.Name), ds.Members.Select(m => m.Name));
            Assert.Equal(bs.Members.Select(m => m.BitOffset), ds.Members.Select(m => m.BitOffset));
            foreach (var m in members)
            {
                var d = Resolve(dwarf, st, m);
                var b = Resolve(btf, st, m);
                if (d is null || b is null) { missing.Add($"{(d is null ? "DWARF" : "")}{(b is null ? " BTF" : "")}: {st}.{m}"); continue; }
                Assert.Equal((st, m, b.Value), (st, m, d.Value));
                compared++;
            }
        }
        Assert.True(missing.Count == 0, "missing: " + string.Join(", ", missing));
        _out.WriteLine($"{compared} members compared; DWARF index {((Kdump.Engine.Types.Dwarf.DwarfTypeFinder)dwarf).IndexTime.TotalMilliseconds:F0} ms");
        Assert.Equal(64UL, Resolve(dwarf, "list_head", "prev")!.Value.BitOffset);
        Assert.Equal(16UL, dwarf.FindType(TypeKind.Struct, "list_head")!.Size);
    }

    [VmlinuxFact]
    public void EnumeratorsVariablesAndBaseTypesAgreeWithBtf()
    {
        using var v = VmlinuxFile.Open(RealVmlinux.Path!);
        var dwarf = v.GetDwarfTypeFinder()!;
        var btf = v.GetBtfTypeFinder()!;
        foreach (var e in new[] { "PIDTYPE_PID", "PIDTYPE_TGID", "PIDTYPE_MAX", "TASK_COMM_LEN", "NR_MM_COUNTERS", "MM_ANONPAGES", "MM_SWAPENTS", "desc_reusable", "desc_committed", "MODULE_STATE_LIVE" })
        {
            Assert.True(dwarf.TryFindEnumerator(e, out var dv), e);
            Assert.True(btf.TryFindEnumerator(e, out var bv), e);
            Assert.Equal((e, bv), (e, dv));
        }
        // alternatives: the kernel has one of them (irq_desc_tree before 6.5, sparse_irqs since)
        foreach (var names in new[] { "init_task", "jiffies", "prb", "init_uts_ns", "swap_info", "nr_swapfiles", "runqueues", "modules", "irq_desc_tree|sparse_irqs" })
        {
            var name = names.Split('|').FirstOrDefault(n => dwarf.FindVariableType(n) is not null) ?? names;
            var dt = dwarf.FindVariableType(name);
            Assert.True(dt is not null, names);
            if (btf.FindVariableType(name) is { } bt) Assert.Equal((name, bt.DisplayName, bt.Size), (name, dt!.DisplayName, dt.Size));
        }
        foreach (var t in new[] { "int", "unsigned int", "long int", "char", "_Bool", "long long unsigned int" })
            Assert.Equal(btf.FindType(TypeKind.Integer, t)!.Size, dwarf.FindType(TypeKind.Integer, t)!.Size);
        Assert.Equal("u32", dwarf.FindType(TypeKind.Typedef, "u32")!.Name);
        Assert.Equal(4UL, dwarf.FindType(TypeKind.Typedef, "pid_t")!.Size);
    }

    [VmlinuxSampleFact]
    public void SymbolsAndIdentityMatchTheSampleDumpAndCrash()
    {
        var m = RealVmlinux.Manifest(TestEnvironment.SamplesDir)!.Value;
        ulong kaslr = ulong.Parse(RealVmlinux.Str(m, "kernelOffset")!.Replace("0x", ""), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        using var v = VmlinuxFile.Open(RealVmlinux.Path!);
        Assert.Equal(RealVmlinux.Str(m, "release"), v.Release);
        var dump = new DumpIdentity { BuildId = RealVmlinux.Str(m, "buildId"), Release = RealVmlinux.Str(m, "release"), KernelOffset = kaslr };
        var r = VmlinuxMatcher.Check(dump, v, force: false);
        Assert.True(r.Matches);
        Assert.Equal(["build-id", "release"], r.Compared);
        var wrong = new DumpIdentity { BuildId = dump.BuildId, Release = "6.1.0-99-amd64" };
        Assert.Equal("VmlinuxMismatch", Assert.Throws<KdumpException>(() => VmlinuxMatcher.Check(wrong, v, false)).ErrorId);

        var syms = v.GetSymbolFinder(kaslr)!;
        Assert.True(syms.Count > 50_000);
        int n = 0;
        // crash's "sym" lines: "ffffffffb001aa40 (D) init_task [file: line]"
        foreach (var line in File.ReadLines(Path.Combine(TestEnvironment.SamplesDir, "crash", "sym.txt")))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[1].Length != 3 || parts[1][0] != '(') continue;
            ulong addr = ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var s = syms.FindByName(parts[2]);
            Assert.True(s is not null, parts[2]);
            Assert.Equal((parts[2], addr), (parts[2], s!.Address));
            Assert.Equal(parts[1][1], s.Type);
            var at = syms.FindByAddress(addr)!.Value; // _text and _stext share an address: either name is right
            Assert.Equal((addr, 0UL), (at.Symbol.Address, at.Offset));
            n++;
        }
        Assert.True(n >= 5);
    }
}

/// <summary>Needs the real vmlinux and the committed sample dump of the same build.</summary>
public sealed class VmlinuxSampleFactAttribute : FactAttribute
{
    public VmlinuxSampleFactAttribute()
    {
        if (RealVmlinux.Path is null) { Skip = "no debuginfo vmlinux"; return; }
        if (!TestEnvironment.HaveSample || RealVmlinux.Manifest(TestEnvironment.SamplesDir) is not { } m) { Skip = "samples/manifest.json is missing"; return; }
        try
        {
            using var v = VmlinuxFile.Open(RealVmlinux.Path);
            if (!string.Equals(v.BuildId, RealVmlinux.Str(m, "buildId"), StringComparison.OrdinalIgnoreCase))
                Skip = $"the vmlinux (build-id {v.BuildId}) is not the sample's kernel ({RealVmlinux.Str(m, "buildId")})";
        }
        catch (KdumpException e) { Skip = "vmlinux unusable: " + e.Message; }
    }
}
