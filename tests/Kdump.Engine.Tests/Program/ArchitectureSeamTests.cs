using System.Buffers.Binary;
using Kdump.Engine.Architectures;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Tests.Dump;
using Kdump.Engine.Tests.Writers;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Program;

/// <summary>
/// Issue 11 item 3: an architecture is one descriptor in the registry. A fake architecture (its own ELF machine,
/// translator, page size and NT_PRSTATUS register order) is registered and a synthetic dump of that machine is
/// analysed through it, with no x86_64 code involved.
/// </summary>
public class ArchitectureSeamTests
{
    private const ushort FakeMachine = 0x7f01, UnknownMachine = 0x7f02;
    private const ulong FakeKernelBase = 0xf000_0000_0000_0000UL;

    /// <summary>A linear translator: kernel virtual = FakeKernelBase + physical; 16 KiB pages; counts its walks.</summary>
    private sealed class FakeTranslator : IAddressTranslator
    {
        private readonly PhysicalReader _phys;
        public int Walks;
        public FakeTranslator(PhysicalReader phys) => _phys = phys;
        public string Architecture => "fakearch";
        public ulong KernelPageTableRoot => 0;
        public int PageSize => 16384;
        public bool IsKernelAddress(ulong address) => address >= FakeKernelBase;
        public void ClearCache() { }
        public AddressTranslation Translate(ulong address, AddressSpace space)
        {
            Interlocked.Increment(ref Walks);
            if (space.Kind == AddressSpaceKind.KernelVirtual && address >= FakeKernelBase && address - FakeKernelBase < _phys.Memory.MaxPfn * (ulong)_phys.PageSize)
                return new AddressTranslation { VirtualAddress = address, PhysicalAddress = address - FakeKernelBase, AddressSpace = space, PageSize = 16384, Status = TranslationStatus.Mapped };
            return new AddressTranslation { VirtualAddress = address, AddressSpace = space, Status = TranslationStatus.NotMapped };
        }
        public bool TryToPhysical(ulong address, AddressSpace space, out ulong physical)
        {
            var t = Translate(address, space);
            physical = t.PhysicalAddress ?? 0;
            return t.Status == TranslationStatus.Mapped;
        }
        public ulong ToPhysical(ulong address, AddressSpace space) => TryToPhysical(address, space, out var pa) ? pa
            : throw new AddressTranslationException("AddressNotMapped", KdumpErrorKind.Unavailable, $"0x{address:x} is not mapped.", address, space);
        public ulong PhysicalToKernelVirtual(ulong physical) => FakeKernelBase + physical;
    }

    private static readonly ArchitectureDescriptor s_fake = new()
    {
        Name = "fakearch",
        ElfMachines = new[] { FakeMachine },
        PrstatusRegisters = new[] { "pc", "sp", "lr" },
        CreateTranslator = c => new FakeTranslator(c.Physical),
    };

    static ArchitectureSeamTests() => ArchitectureRegistry.Default.Register(s_fake);

    private static byte[] FakeDump(ushort machine)
    {
        var w = new ElfVmcoreWriter { Machine = machine };
        var prstatus = new byte[112 + 3 * 8];
        BinaryPrimitives.WriteInt32LittleEndian(prstatus.AsSpan(32), 42);               // pr_pid
        BinaryPrimitives.WriteUInt64LittleEndian(prstatus.AsSpan(112), 0xf000_0000_0000_1234UL); // pc
        BinaryPrimitives.WriteUInt64LittleEndian(prstatus.AsSpan(120), 0xf000_0000_0000_8000UL); // sp
        w.Notes.Add(("CORE", 1, prstatus));
        w.AddVmcoreInfo("OSRELEASE=6.1.0-fake\n");                                          // no PAGESIZE: the translator's
        w.AddRam(0, 0x20000);
        return w.Build();
    }

    [Fact]
    public void AFakeArchitectureIsChosenByTheDumpsMachineAndUsed()
    {
        using var v = new Vmcore(TestDumps.Open(FakeDump(FakeMachine), "fakearch"));
        Assert.Equal($"{ArchitectureDescriptor.ElfMachinePrefix}{FakeMachine}", v.Dump.Architecture);
        var k = v.Kernel;
        Assert.Same(s_fake, k.Architecture);
        var tr = Assert.IsType<FakeTranslator>(k.Translator);
        // reads go through the fake translator
        var expected = SyntheticMemory.Page(5).AsSpan(0, 64).ToArray();
        Assert.Equal(expected, k.ReadKernel(FakeKernelBase + 5 * 4096, 64));
        Assert.True(tr.Walks > 0);
        Assert.Equal(16384, k.PageSize);
        // the engine's vtop/ptov go through it too
        var lookup = new AddressLookup(k);
        Assert.Equal(0x3000UL, lookup.Translate(FakeKernelBase + 0x3000, AddressSpace.KernelVirtual).PhysicalAddress);
        Assert.Equal(FakeKernelBase + 0x3000, lookup.PhysicalToVirtual(0x3000).VirtualAddress.Value);
        Assert.Equal(16384UL, lookup.PhysicalToVirtual(0x3000).PageSize);
        // NT_PRSTATUS registers are named by the descriptor's layout
        var cpu = Assert.Single(v.Dump.Cpus);
        Assert.Equal(42, cpu.Pid);
        Assert.Equal(0xf000_0000_0000_1234UL, cpu.Registers["pc"]);
        Assert.Equal(0xf000_0000_0000_8000UL, cpu.Registers["sp"]);
        // no unwinder registered: backtraces say so rather than running x86_64's
        Assert.Equal("BacktraceUnsupported", Assert.Throws<KdumpException>(() => Backtracers.For(k, v)).ErrorId);
    }

    [Fact]
    public void AnUnregisteredMachineIsArchitectureUnsupported()
    {
        using var v = new Vmcore(TestDumps.Open(FakeDump(UnknownMachine), "unknownarch"));
        Assert.NotNull(v.Dump.Cpus); // the dump itself opens
        var ex = Assert.Throws<KdumpException>(() => v.Kernel);
        Assert.Equal("ArchitectureUnsupported", ex.ErrorId);
        Assert.Equal($"elf-machine-{UnknownMachine}", ex.Target);
        Assert.Contains("x86_64", ex.Message);
    }

    [Fact]
    public void RegistryResolvesByNameAliasElfMachineAndVmcoreInfo()
    {
        var r = ArchitectureRegistry.CreateDefault();
        Assert.Equal("x86_64", r.Resolve("x86_64", null).Name);
        Assert.Equal("x86_64", r.Resolve("elf-machine-62", null).Name);
        Assert.Equal("x86_64", r.Resolve("AMD64", null).Name);
        Assert.Equal("x86_64", r.Resolve(null, new VmcoreInfo("SYMBOL(init_top_pgt)=ffffffff8260a000\n", "t")).Name);
        Assert.Null(r.Find("fakearch"));                       // a registry of its own does not see Default's additions
        r.Register(s_fake);
        Assert.Same(s_fake, r.Resolve("elf-machine-32513", null));
        Assert.Equal("ArchitectureUnsupported", Assert.Throws<KdumpException>(() => r.Resolve("aarch64", null)).ErrorId);
        // a program built with an explicit registry and architecture uses them
        var mem = new FakePhysicalMemory();
        var p = new KernelProgram(mem, null, null, null, new KernelProgramOptions { Architecture = "fakearch", Registry = r });
        Assert.IsType<FakeTranslator>(p.Translator);
    }
}
