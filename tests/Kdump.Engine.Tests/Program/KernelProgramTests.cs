using Kdump.Engine.Dump;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;
using Kdump.Engine.Tests.Types;
using Kdump.Engine.Translation;
using Kdump.Engine.Types;

namespace Kdump.Engine.Tests.Program;

public class KernelProgramTests
{
    internal const ulong Pob = 0xffff888000000000UL;
    internal static ulong Va(ulong pa) => Pob + pa;

    internal static (KernelProgram, FakePhysicalMemory) World(ContainerTypes.Layout? layout = null)
    {
        var mem = new FakePhysicalMemory();
        var p = new KernelProgram(mem, null, translatorOptions: new X86_64TranslatorOptions { PageOffsetBase = Pob });
        var (blob, _) = BtfTests.Sample();
        p.AddTypeFinder(new BtfTypeFinder(blob, "sample BTF"));
        p.AddTypeFinder(new BtfTypeFinder(ContainerTypes.Btf(layout), "container BTF"), first: false);
        return (p, mem);
    }

    [Fact]
    public void ReadsMembersBitfieldsArraysStrings()
    {
        var (p, mem) = World();
        ulong task = 0x10000;
        mem.WriteU64(task + 0, 0x1);                         // __state
        mem.WriteU32(task + 8, 4242);                        // pid
        mem.WriteU32(task + 12, unchecked((uint)-7));        // tgid
        mem.WriteU32(task + 32, 11);                         // anon.a_in_anon
        mem.WriteU32(task + 36, 22);                         // anon.b_in_anon
        mem.Write(task + 40, new byte[] { 0b1010_1101 });    // flag_a = bits 0-2 = 5, flag_b = bits 3-7 = 0b10101 = 21
        mem.Write(task + 48, "swapper/0\0garbage"u8.ToArray());
        mem.WriteU64(task + 64, Va(0x20000));                // mm
        mem.WriteU32(task + 72, 1);                          // state_enum
        var t = p.Object(Va(task), "struct task_struct");
        Assert.Equal(4242, t.ReadField<int>("pid"));
        Assert.Equal(-7L, t["tgid"].ReadInteger());
        Assert.Equal(22u, t.ReadField<uint>("b_in_anon"));
        Assert.Equal(5UL, t["flag_a"].ReadUnsigned());
        Assert.Equal(21UL, t["flag_b"].ReadUnsigned());
        Assert.Equal(-3L, t["flag_a"].ReadSigned()); // 3-bit signed 0b101
        Assert.Equal("swapper/0", t["comm"].ReadString());
        Assert.Equal((byte)'w', t["comm"][1].Read<byte>());
        Assert.Equal(Va(0x20000), t["mm"].ReadPointer());
        Assert.Equal("TASK_INTERRUPTIBLE", t["state_enum"].ReadEnumName());
        Assert.Equal(Va(task + 16), t["tasks"].Address);
        Assert.Equal(Va(task + 24), t["tasks.prev"].Address);
        Assert.False(t.TryReadField<int>("nonexistent", out _));
        var ex = Assert.Throws<KdumpException>(() => t.Member("nonexistent"));
        Assert.Equal("MemberNotFound", ex.ErrorId);
        Assert.Equal(Va(task), KernelObject.ContainerOf(p, Va(task + 16), t.Type, "tasks").Address);
    }

    [Fact]
    public void DerefAndUnmappedReads()
    {
        var (p, mem) = World();
        ulong task = 0x10000;
        mem.WriteU64(task + 16, Va(0x30000)); // tasks.next -> another list_head
        mem.WriteU64(0x30000, 0x1234);
        var next = p.Object(Va(task), "struct task_struct")["tasks.next"].Deref();
        Assert.Equal(Va(0x30000), next.Address);
        Assert.Equal(0x1234UL, next["next"].ReadPointer());
        mem.SetStatus(0x30000 / 4096, PageStatus.Excluded);
        p.InvalidateCaches();
        var pf = Assert.Throws<MemoryFaultException>(() => next["next"].ReadPointer());
        Assert.Equal("PageExcluded", pf.ErrorId);
    }

    private static void Link(FakePhysicalMemory mem, params ulong[] nodes)
    {
        for (int i = 0; i < nodes.Length; i++)
        {
            mem.WriteU64(nodes[i], Va(nodes[(i + 1) % nodes.Length]));
            mem.WriteU64(nodes[i] + 8, Va(nodes[(i + nodes.Length - 1) % nodes.Length]));
        }
    }

    [Fact]
    public void ListWalkIsBoundedAndCycleSafe()
    {
        var (p, mem) = World();
        Link(mem, 0x1000, 0x2000, 0x3000, 0x4000);
        Assert.Equal(new[] { Va(0x2000), Va(0x3000), Va(0x4000) }, p.ListForEach(Va(0x1000)).ToArray());
        var tooLong = Assert.Throws<KdumpException>(() => p.ListForEach(Va(0x1000), max: 2).ToList());
        Assert.Equal("ListTooLong", tooLong.ErrorId);
        // 0x4000 -> 0x2000: a loop that never returns to the head
        mem.WriteU64(0x4000, Va(0x2000));
        p.InvalidateCaches();
        var cyc = Assert.Throws<KdumpException>(() => p.ListForEach(Va(0x1000)).ToList());
        Assert.Equal("ListCycle", cyc.ErrorId);
        // typed entries
        Link(mem, 0x1000, 0x10010, 0x20010);
        p.InvalidateCaches();
        var task = p.FindType("struct task_struct");
        var tasks = p.ListForEachEntry(Va(0x1000), task, "tasks").Select(o => o.Address).ToArray();
        Assert.Equal(new[] { Va(0x10000), Va(0x20000) }, tasks);
    }

    [Fact]
    public void HlistAndRbtree()
    {
        var (p, mem) = World();
        mem.WriteU64(0x1000, Va(0x2000)); mem.WriteU64(0x2000, Va(0x3000)); mem.WriteU64(0x3000, 0);
        Assert.Equal(2, p.HlistForEach(Va(0x1000)).Count());
        mem.WriteU64(0x3000, Va(0x2000));
        p.InvalidateCaches();
        Assert.Equal("ListCycle", Assert.Throws<KdumpException>(() => p.HlistForEach(Va(0x1000)).ToList()).ErrorId);

        // rbtree: root -> B(0x6000) with left A(0x5000), right C(0x7000)
        mem.WriteU64(0x4000, Va(0x6000));
        mem.WriteU64(0x6000 + 16, Va(0x5000)); mem.WriteU64(0x6000 + 8, Va(0x7000));
        Assert.Equal(new[] { Va(0x5000), Va(0x6000), Va(0x7000) }, p.RbTreeInOrder(Va(0x4000)).ToArray());
        mem.WriteU64(0x7000 + 8, Va(0x6000)); // C.right -> B
        p.InvalidateCaches();
        Assert.Equal("TreeCycle", Assert.Throws<KdumpException>(() => p.RbTreeInOrder(Va(0x4000)).ToList()).ErrorId);
    }

    [Fact]
    public void MapleTreeRangesInOrder()
    {
        var (p, mem) = World();
        ulong tree = 0x1000;                 // struct maple_tree: ma_root at 8
        ulong root = 0x100000, leafA = 0x100100, leafB = 0x100200; // 256-byte aligned nodes
        mem.WriteU64(tree + 8, Va(root) | (2UL << 3) | 2); // maple_range_64
        // root: pivots [0x7fff, 0 ...], slots [leafA, leafB]
        mem.WriteU64(root + 8, 0x7fff); mem.WriteU64(root + 16, ulong.MaxValue); // the last used pivot is the node max
        mem.WriteU64(root + 128, Va(leafA) | (1UL << 3) | 2);
        mem.WriteU64(root + 136, Va(leafB) | (1UL << 3) | 2);
        // leafA covers 0..0x7fff: [0,0xfff]=NULL, [0x1000,0x1fff]=VMA1, [0x2000,0x7fff]=NULL
        mem.WriteU64(leafA + 8, 0xfff); mem.WriteU64(leafA + 16, 0x1fff); mem.WriteU64(leafA + 24, 0x7fff);
        mem.WriteU64(leafA + 128 + 8, Va(0x9000));
        // leafB covers 0x8000..max: [0x8000,0x8fff]=VMA2, rest NULL
        mem.WriteU64(leafB + 8, 0x8fff); mem.WriteU64(leafB + 16, ulong.MaxValue);
        mem.WriteU64(leafB + 128, Va(0xa000));
        var got = p.MapleTreeForEach(Va(tree)).ToArray();
        Assert.Equal(2, got.Length);
        Assert.Equal(new KernelWalkers.MapleEntry(0x1000, 0x1fff, Va(0x9000)), got[0]);
        Assert.Equal(new KernelWalkers.MapleEntry(0x8000, 0x8fff, Va(0xa000)), got[1]);
        // a child pointing back at the root is a cycle
        mem.WriteU64(root + 136, Va(root) | (2UL << 3) | 2);
        p.InvalidateCaches();
        Assert.Equal("TreeCycle", Assert.Throws<KdumpException>(() => p.MapleTreeForEach(Va(tree)).ToList()).ErrorId);
    }

    [Fact]
    public void RbtreeFollowsTheTypesNotTheSixOneLayout()
    {
        // a layout where rb_left comes before rb_right: the walk must read the offsets from struct rb_node
        var (p, mem) = World(new ContainerTypes.Layout { RbLeft = 8, RbRight = 16 });
        mem.WriteU64(0x4000, Va(0x6000));
        mem.WriteU64(0x6000 + 8, Va(0x5000)); mem.WriteU64(0x6000 + 16, Va(0x7000));
        Assert.Equal(new[] { Va(0x5000), Va(0x6000), Va(0x7000) }, p.RbTreeInOrder(Va(0x4000)).ToArray());
    }

    [Theory]
    [InlineData("rb_node", "struct rb_root")]
    [InlineData("maple_tree", "struct maple_tree")]
    [InlineData("xarray", "struct xa_node")]
    public void MissingContainerTypeIsNamed(string omit, string named)
    {
        var (p, _) = World(new ContainerTypes.Layout { Omit = omit });
        var ex = Assert.Throws<KdumpException>(() => omit switch
        {
            "rb_node" => p.RbTreeInOrder(Va(0x4000)).ToList().Count,
            "maple_tree" => p.MapleTreeForEach(Va(0x1000)).ToList().Count,
            _ => p.XArrayForEach(Va(0x1000)).ToList().Count,
        });
        Assert.Equal("KernelTypeMissing", ex.ErrorId);
        Assert.Equal(named, ex.Target);
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void MapleTreeFollowsTheTypes()
    {
        // maple_tree.ma_root at 16, other enum maple_type numbers, 7 pivots / 8 slots per range node
        var l = new ContainerTypes.Layout { MaRoot = 16, RangePivots = 7, MapleTypes = (5, 6, 7, 8) };
        var (p, mem) = World(l);
        ulong tree = 0x1000, root = 0x100000, leaf = 0x100100;
        ulong slotOff = 8 + 7 * 8;
        mem.WriteU64(tree + 16, Va(root) | (7UL << 3) | 2);          // maple_range_64 (7)
        mem.WriteU64(root + 8, ulong.MaxValue);
        mem.WriteU64(root + slotOff, Va(leaf) | (6UL << 3) | 2);     // leaf_64 (6)
        mem.WriteU64(leaf + 8, 0xfff); mem.WriteU64(leaf + 16, ulong.MaxValue);
        mem.WriteU64(leaf + slotOff + 8, Va(0x9000));
        Assert.Equal(new[] { new KernelWalkers.MapleEntry(0x1000, ulong.MaxValue, Va(0x9000)) }, p.MapleTreeForEach(Va(tree)).ToArray());
    }

    [Theory]
    [InlineData("PAGESIZE=16384\n", 16384)]
    [InlineData("PAGESIZE=4096\n", 4096)]
    [InlineData("PAGESIZE=1000\n", 4096)]   // not a power of two: the translator's base page
    [InlineData("OSRELEASE=6.1.0\n", 4096)] // no PAGESIZE: the translator's base page
    public void PageSizeComesFromVmcoreInfoElseTheTranslator(string vmcoreInfo, int expected)
    {
        var p = new KernelProgram(new FakePhysicalMemory(), new VmcoreInfo(vmcoreInfo, "t"), translatorOptions: new X86_64TranslatorOptions { PageOffsetBase = Pob });
        Assert.Equal(expected, p.PageSize);
    }

    [Fact]
    public void CommLengthIsTheArraySizeInTheTypes()
    {
        var (p, _) = World();
        Assert.Equal(16, Kdump.Engine.Linux.Tasks.TaskLayout.CommLengthOf(p.FindType("struct task_struct")));
        // a kernel whose comm were 24 bytes: read from the type, not assumed
        var b = new BtfBuilder();
        int ch = b.Int("char", 1, signed: true, isChar: true);
        int i32 = b.Int("int", 4, signed: true);
        b.Struct("task_struct", 32, ("pid", i32, 0, 0), ("comm", b.Array(ch, i32, 24), 32, 0));
        b.Struct("other_task", 16, ("pid", i32, 0, 0), ("comm", b.Ptr(ch), 64, 0));
        var f = new BtfTypeFinder(b.Build(), "t");
        Assert.Equal(24, Kdump.Engine.Linux.Tasks.TaskLayout.CommLengthOf(f.FindType(TypeKind.Struct, "task_struct")!));
        var ex = Assert.Throws<KdumpException>(() => Kdump.Engine.Linux.Tasks.TaskLayout.CommLengthOf(f.FindType(TypeKind.Struct, "other_task")!));
        Assert.Equal("KernelTypeMissing", ex.ErrorId);
        Assert.Equal("struct task_struct.comm", ex.Target);
    }

    [Fact]
    public void XArrayEntriesWithIndices()
    {
        var (p, mem) = World();
        ulong xa = 0x1000, node = 0x200000, leaf = 0x200400;
        mem.WriteU64(xa + 8, Va(node) | 2);
        mem.Write(node, new byte[] { 6 });                   // shift 6
        mem.WriteU64(node + 40 + 1 * 8, Va(leaf) | 2);       // slot 1 -> child at index 64
        mem.Write(leaf, new byte[] { 0 });
        mem.WriteU64(leaf + 40 + 3 * 8, Va(0x7000));         // index 67
        mem.WriteU64(leaf + 40 + 4 * 8, (1UL << 2) | 2);      // sibling entry: skipped
        var got = p.XArrayForEach(Va(xa)).ToArray();
        Assert.Equal(new[] { new KernelWalkers.XArrayEntry(67, Va(0x7000)) }, got);
    }

    [Fact]
    public void VariablesAndPerCpu()
    {
        var (p, mem) = World();
        var syms = new SymbolTableBuilder();
        syms.Add("init_task", Va(0x50000), 'D');
        syms.Add("__per_cpu_offset", Va(0x60000), 'D');
        syms.Add("nr_cpu_ids", Va(0x61000), 'D');
        p.AddSymbolFinder(syms.Build("test symbols"));
        mem.WriteU32(0x50000 + 8, 1);
        mem.WriteU32(0x61000, 2);
        mem.WriteU64(0x60000, Va(0x70000) - Va(0x50000));
        mem.WriteU64(0x60008, Va(0x80000) - Va(0x50000));
        mem.WriteU32(0x80000 + 8, 77);
        var v = p.Variable("init_task");     // BTF VAR gives the type
        Assert.Equal(1, v.ReadField<int>("pid"));
        Assert.Equal(new[] { Va(0x70000) - Va(0x50000), Va(0x80000) - Va(0x50000) }, p.PerCpuOffsets);
        Assert.Equal(77, p.PerCpu("init_task", 1).ReadField<int>("pid"));
        Assert.Equal("CpuNotFound", Assert.Throws<KdumpException>(() => p.PerCpu("init_task", 2)).ErrorId);
        Assert.Equal("SymbolNotFound", Assert.Throws<KdumpException>(() => p.Variable("nope")).ErrorId);
        Assert.Equal("TypeNotFound", Assert.Throws<KdumpException>(() => p.FindType("struct nope")).ErrorId);
        Assert.Equal(TypeKind.Pointer, p.FindType("struct task_struct *").Kind);
    }

    [Fact]
    public void LoadsKallsymsAndBtfFromMemory()
    {
        // kallsyms tables and a BTF blob placed in the kernel image mapping (phys_base 0)
        var (blob, _) = BtfTests.Sample();
        const ulong btfVa = 0xffffffff83000000UL;
        var syms = new List<(string, char, ulong)>
        {
            ("_stext", 'T', 0xffffffff81000000UL), ("start_kernel", 'T', 0xffffffff81001000UL),
            ("__start_BTF", 'R', btfVa), ("__stop_BTF", 'R', btfVa + (ulong)blob.Length),
        };
        var (kmem, vi) = KallsymsBuilder.Build(syms, KallsymsEncoding.BaseRelativeAbsolutePercpu, 0xffffffff81000000UL);
        var mem = new FakePhysicalMemory();
        foreach (var (va, data) in kmem.Regions) mem.Write(va - X86_64Translator.StartKernelMap, data);
        mem.Write(btfVa - X86_64Translator.StartKernelMap, blob);
        var p = new KernelProgram(mem, new VmcoreInfo(vi + "NUMBER(phys_base)=0\n", "test"));
        Assert.Equal(0xffffffff81001000UL, p.FindSymbol("start_kernel")!.Address);
        Assert.Equal("start_kernel+0x8", p.Symbolize(0xffffffff81001008UL)!.Value.ToString());
        var task = Assert.IsType<KStructType>(p.FindType("struct task_struct"));
        Assert.True(task.TryFindMember("comm", out _, out _));
        Assert.Contains("BTF in the dump", p.TypeSourceText);
        Assert.Contains("kallsyms in the dump", p.SymbolSourceText);
    }

    [Fact]
    public void KernelWithoutBtfSaysSoAndWhatToInstall()
    {
        // kallsyms present, but no __start_BTF/__stop_BTF: a kernel built without CONFIG_DEBUG_INFO_BTF
        var syms = new List<(string, char, ulong)> { ("_stext", 'T', 0xffffffff81000000UL), ("start_kernel", 'T', 0xffffffff81001000UL) };
        var (kmem, vi) = KallsymsBuilder.Build(syms, KallsymsEncoding.BaseRelativeAbsolutePercpu, 0xffffffff81000000UL);
        var mem = new FakePhysicalMemory();
        foreach (var (va, data) in kmem.Regions) mem.Write(va - X86_64Translator.StartKernelMap, data);
        var p = new KernelProgram(mem, new VmcoreInfo(vi + "NUMBER(phys_base)=0\n", "test"));
        Assert.Equal(0xffffffff81001000UL, p.FindSymbol("start_kernel")!.Address);   // symbols still work
        var ex = Assert.Throws<KdumpException>(() => p.FindType("struct task_struct"));
        Assert.Equal("KernelTypesUnavailable", ex.ErrorId);
        Assert.Contains("CONFIG_DEBUG_INFO_BTF", ex.Message);
        Assert.Contains("-Vmlinux", ex.Message);
        Assert.Null(p.TryFindType("struct task_struct"));
    }
}
