using Kdump.Engine.Dump;

namespace Kdump.Engine.Architectures;

/// <summary>
/// The architectures the engine can analyse, keyed by the dump's ELF machine / utsname machine (and VMCOREINFO for
/// dumps that carry neither). <see cref="Default"/> holds the built-in ones; registering is lock-free copy-on-write,
/// so lookups never block.
/// </summary>
public sealed class ArchitectureRegistry
{
    private ArchitectureDescriptor[] _all = Array.Empty<ArchitectureDescriptor>();

    /// <summary>The registry the engine uses: x86_64 (the one real architecture today).</summary>
    public static ArchitectureRegistry Default { get; } = CreateDefault();

    /// <summary>A registry with the built-in architectures. To add one: <c>registry.Register(Arm64.Architecture.Descriptor)</c>.</summary>
    public static ArchitectureRegistry CreateDefault()
    {
        var r = new ArchitectureRegistry();
        r.Register(X86_64.X86_64Architecture.Descriptor);
        return r;
    }

    /// <summary>The architecture used when a dump names none and its VMCOREINFO is recognised by none (bare memory in tests).</summary>
    public string DefaultName { get; init; } = "x86_64";

    public IReadOnlyList<ArchitectureDescriptor> All => Volatile.Read(ref _all);

    /// <summary>Adds (or replaces, by name) an architecture.</summary>
    public void Register(ArchitectureDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        while (true)
        {
            var old = Volatile.Read(ref _all);
            var next = old.Where(d => !string.Equals(d.Name, descriptor.Name, StringComparison.OrdinalIgnoreCase)).Append(descriptor).ToArray();
            if (Interlocked.CompareExchange(ref _all, next, old) == old) return;
        }
    }

    /// <summary>The architecture a machine string names (name, alias or "elf-machine-N"), or null.</summary>
    public ArchitectureDescriptor? Find(string? machine)
    {
        if (string.IsNullOrEmpty(machine)) return null;
        foreach (var d in All) if (d.Matches(machine)) return d;
        return null;
    }

    /// <summary>
    /// The architecture of a dump: by its machine when it names one (an unregistered machine is
    /// <c>ArchitectureUnsupported</c>), else the one that recognises its VMCOREINFO, else <see cref="DefaultName"/>.
    /// </summary>
    public ArchitectureDescriptor Resolve(string? machine, VmcoreInfo? vmcoreInfo)
    {
        if (!string.IsNullOrEmpty(machine))
            return Find(machine) ?? throw new KdumpException("ArchitectureUnsupported", KdumpErrorKind.NotSupported,
                $"The dump is from a '{machine}' kernel; kernel analysis supports {string.Join(", ", All.Select(a => a.Name))}. Dump-level information (Get-Vmcore) is still available.", machine);
        if (vmcoreInfo is not null)
            foreach (var d in All) if (d.RecognizesVmcoreInfo?.Invoke(vmcoreInfo) == true) return d;
        return Find(DefaultName) ?? throw new KdumpException("ArchitectureUnsupported", KdumpErrorKind.NotSupported,
            $"The dump does not say which architecture it is from and '{DefaultName}' is not registered.", DefaultName);
    }
}
