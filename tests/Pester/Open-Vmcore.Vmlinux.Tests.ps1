BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Vmlinux = @($env:KDUMP_VMLINUX_DEBUG,
        $(if ($HaveFixtures) { $m = Get-TestManifest $FixturesDir; if ($m.vmlinuxDebug) { Join-Path $FixturesDir $m.vmlinuxDebug } }),
        '/work/cache-dbg/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64') | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Sample = Join-Path $SamplesDir 'vmcore.kdump'
}

Describe 'Open-Vmcore -Vmlinux' {
    AfterEach { Get-Vmcore | Close-Vmcore }

    Context 'a file that is not a usable vmlinux' {
        It 'refuses a stripped binary with VmlinuxStripped and opens nothing' {
            $r = Open-Vmcore $Sample -Vmlinux (Get-Command ls).Source -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VmlinuxStripped,*'
            $err[0].Exception.Message | Should -BeLike '*debuginfo*'
        }
        It 'refuses a file that does not exist with VmlinuxNotFound but opens the dump' {
            $r = Open-Vmcore $Sample -Vmlinux '/nonexistent/vmlinux' -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VmlinuxNotFound,*'
            $r.Vmlinux | Should -BeNullOrEmpty
        }
    }

    Context 'the debuginfo vmlinux of the sample kernel' -Skip:(-not $Vmlinux) {
        It 'attaches the same vmlinux once, and refuses a second one on an open dump' {
            $d = Open-Vmcore $Sample -Vmlinux $Vmlinux -Force
            $sources = $d.SymbolSources
            $again = Open-Vmcore $Sample -Vmlinux $Vmlinux
            $again.Id | Should -Be $d.Id
            $again.SymbolSources | Should -Be $sources
            $link = Join-Path $TestDrive 'vmlinux-link'
            New-Item -ItemType SymbolicLink -Path $link -Target $Vmlinux | Out-Null
            $r = Open-Vmcore $Sample -Vmlinux $link -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VmlinuxAlreadyAttached,*'
        }

        It 'uses its symbols and DWARF, and agrees with the dump BTF on task_struct (<_>)' -ForEach @('Auto', 'Btf') {
            $d = Open-Vmcore $Sample -Vmlinux $Vmlinux -TypeSource $_ -Force
            $t = Get-CrashType 'struct task_struct' -Vmcore $d
            $d.SymbolSources | Should -BeLike 'vmlinux ELF symbols*'
            if ($_ -eq 'Auto') { $d.TypeSources | Should -BeLike 'DWARF*' } else { $d.TypeSources | Should -BeLike 'BTF in*.BTF section*' }
            $plain = Open-Vmcore $Sample -Force
            $t2 = Get-CrashType 'struct task_struct' -Vmcore $plain
            $t.Size | Should -Be $t2.Size
            ($t.Members | Where-Object Name -eq 'comm').Offset | Should -Be ($t2.Members | Where-Object Name -eq 'comm').Offset
            (Get-CrashSymbol -Name init_task -Vmcore $d).Address | Should -Be (Get-CrashSymbol -Name init_task -Vmcore $plain).Address
        }
    }
}
